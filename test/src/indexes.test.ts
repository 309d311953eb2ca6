import type { CommandStartedEvent } from "mongodb";
import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Channel } from "@hub/kit";
import { splitOperations } from "@hub/gateway";
import { SCHEMA_DIR } from "@hub/schema";
import { codeOf, freshIdNumber, run } from "./support/cards.js";
import { contractOperation, graphql, useTestHub, token } from "./support/hub.js";

const hub = useTestHub();

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
    // Every contract operation, reads and writes, each by a channel allowed to run it; the list
    // is checked against the contract below, so an operation added there is not left out here.
    const url = hub().gateway.url;
    const ran: string[] = [];
    const mutate = async (operation: string, input: Record<string, unknown>, channel?: Channel) => {
      const answer = await run(url, operation, input, channel);
      expect(answer.errors, `${operation}: ${String(codeOf(answer))}`).toBeUndefined();
      ran.push(operation);
      return answer;
    };
    const idNumber = freshIdNumber();
    const registered = await mutate("RegisterPerson", { idNumber, name: "索引人" });
    const personId = (registered.data as { registerPerson: { person: { id: string } } })
      .registerPerson.person.id;
    const issued = await mutate("IssueCard", {
      personId,
      province: "44",
      issuingBank: "中国工商银行",
    });
    const cardId = (issued.data as { issueCard: { card: { id: string } } }).issueCard.card.id;
    const steps: [string, Record<string, unknown>, Channel?][] = [
      ["CollectCard", { cardId }],
      ["EnableSocialSecurityFunction", { cardId }],
      ["ChangeCardPassword", { cardId, currentPassword: "123456", newPassword: "802615" }],
      ["VerifyCardPassword", { cardId, password: "802615" }],
      ["ResetCardPassword", { cardId, idempotencyKey: "idx-reset" }],
      ["SetElectronicCardPassword", { personId, newPassword: "394857" }, "APP"],
      ["VerifyElectronicCardPassword", { personId, password: "394857" }, "APP"],
      ["IssueElectronicCard", { cardId, faceMatched: true }, "APP"],
      ["ReportCardLoss", { cardId, temporary: true }],
      ["WithdrawLossReport", { cardId }],
      ["ActivateFinancialFunction", { cardId, idempotencyKey: "idx-act" }, "BANK_COUNTER"],
    ];
    for (const [operation, input, channel] of steps) await mutate(operation, input, channel);
    const replaced = await mutate("ReplaceCard", {
      cardId,
      reason: "STAINED",
      idempotencyKey: "idx-rep",
    });
    const newCardId = (replaced.data as { replaceCard: { newCard: { id: string } } }).replaceCard
      .newCard.id;
    await mutate("CancelCard", {
      cardId: newCardId,
      reason: "holder request",
      idempotencyKey: "idx-cancel",
    });
    await mutate(
      "CancelBankAccount",
      { cardId: newCardId, idempotencyKey: "idx-bank" },
      "BANK_COUNTER",
    );
    const bearer = await token();
    for (const [operation, variables] of [
      ["PersonCards", { idNumber }],
      ["PersonById", { id: personId }],
      ["PersonsByIds", { ids: [personId] }],
      ["CardHistory", { cardId }],
    ] as const) {
      expect(
        (await graphql(url, await contractOperation(operation), variables, bearer)).errors,
      ).toBeUndefined();
      ran.push(operation);
    }
    const contract = splitOperations(
      await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
    ).map((op) => op.name);
    expect([...new Set(ran)].sort()).toEqual([...contract].sort());

    const indexes = declaredIndexes(hub().commands);
    const unserved = new Set<string>();
    let checked = 0;
    for (const c of hub().commands) {
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
      // The feed's log on the embedded demo database only (docs/feed.md): buckets of 64 entries,
      // whose event ids are map keys no index can hold; a replica set keeps one document per
      // entry, found by `_id`. The scan reads the log's size ÷ 64 documents.
      const embeddedBucketLook =
        collection.endsWith("_feed.card_event_buckets") &&
        selected.fields.length === 1 &&
        selected.fields[0]!.startsWith("ids.");
      if (!served && !embeddedBucketLook)
        unserved.add(
          `${collection} ${c.commandName} by [${selected.fields.join(", ")}] sort [${selected.sort.join(", ")}]`,
        );
    }
    expect(checked).toBeGreaterThan(50);
    expect([...unserved]).toEqual([]);
  });
});
