import type { CommandStartedEvent } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, personWithCard, run, runCardLife } from "./support/cards.js";
import { contractOperation, graphql, startTestHub, token, type TestHub } from "./support/hub.js";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});

/** Index key lists by `database.collection`, from the createIndexes commands seen at start-up. */
function declaredIndexes(commands: readonly CommandStartedEvent[]): Map<string, string[][]> {
  const indexes = new Map<string, string[][]>();
  for (const c of commands) {
    if (c.commandName !== "createIndexes") continue;
    const name = `${c.databaseName}.${String(c.command["createIndexes"])}`;
    const list = indexes.get(name) ?? [["_id"]];
    // The driver sends keys as a Map (their order is the index's).
    for (const index of c.command["indexes"] as {
      key: Map<string, unknown> | Record<string, unknown>;
    }[])
      list.push(index.key instanceof Map ? [...index.key.keys()] : Object.keys(index.key));
    indexes.set(name, list);
  }
  return indexes;
}

/** The fields a command selects documents by (its filter, query, or first $match), and its sort. */
function selection(
  c: CommandStartedEvent,
): { fields: string[]; sort: string[]; limit1: boolean } | null {
  const command = c.command;
  let filter: Record<string, unknown> | undefined;
  if (c.commandName === "find" || c.commandName === "findAndModify")
    filter = (command["filter"] ?? command["query"]) as Record<string, unknown>;
  else if (c.commandName === "update" || c.commandName === "delete")
    filter = ((command["updates"] ?? command["deletes"]) as { q: Record<string, unknown> }[])[0]?.q;
  else if (c.commandName === "aggregate")
    filter = ((command["pipeline"] as Record<string, unknown>[])[0]?.["$match"] ?? {}) as Record<
      string,
      unknown
    >;
  else if (c.commandName === "distinct")
    filter = (command["query"] ?? {}) as Record<string, unknown>;
  else return null;
  const fields = Object.keys(filter ?? {}).filter((key) => !key.startsWith("$"));
  // A distinct reads its key from an index that leads with it.
  if (c.commandName === "distinct") fields.push(String(command["key"]));
  const sort = Object.keys((command["sort"] ?? {}) as Record<string, unknown>);
  return { fields, sort, limit1: command["limit"] === 1 || command["limit"] === 1n };
}

describe("every query the repositories issue is served by a declared index", () => {
  it("each filter leads with the first key of an index of its collection (or is a one-document look, or sorts by an index)", async () => {
    // The contract's operations, reads and writes, as channels run them.
    const { personId, cardId, idNumber } = await personWithCard(hub.gateway.url);
    await runCardLife(hub.gateway.url, { cardId, personId });
    const replaced = await run(hub.gateway.url, "ReplaceCard", {
      cardId,
      reason: "STAINED",
      idempotencyKey: "idx-rep",
    });
    expect(replaced.errors, String(codeOf(replaced))).toBeUndefined();
    const bearer = await token();
    for (const [operation, variables] of [
      ["PersonCards", { idNumber }],
      ["PersonById", { id: personId }],
      ["PersonsByIds", { ids: [personId] }],
      ["CardHistory", { cardId }],
    ] as const)
      expect(
        (await graphql(hub.gateway.url, await contractOperation(operation), variables, bearer))
          .errors,
      ).toBeUndefined();

    const indexes = declaredIndexes(hub.commands);
    const unserved = new Set<string>();
    let checked = 0;
    for (const c of hub.commands) {
      const selected = selection(c);
      if (!selected) continue;
      const collection = `${c.databaseName}.${String(c.command[c.commandName])}`;
      if (collection.startsWith("admin.")) continue;
      checked += 1;
      const leading = (indexes.get(collection) ?? [["_id"]]).map((keys) => keys[0]!);
      const served =
        selected.fields.some((field) => leading.includes(field)) ||
        (selected.fields.length === 0 &&
          (selected.limit1 || leading.includes(selected.sort[0] ?? "")));
      if (!served)
        unserved.add(
          `${collection} ${c.commandName} by [${selected.fields.join(", ")}] sort [${selected.sort.join(", ")}]`,
        );
    }
    expect(checked).toBeGreaterThan(50);
    expect([...unserved]).toEqual([]);
  });
});
