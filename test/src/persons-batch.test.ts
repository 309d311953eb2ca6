import { isRelayCommand, subgraphDatabaseName } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { personWithCard, run, runCardLife } from "./support/cards.js";
import { contractOperation, countByCollection, graphql, useTestHub, token } from "./support/hub.js";

const hub = useTestHub();

async function commandsFor(ids: string[]): Promise<Map<string, number>> {
  const query = await contractOperation("PersonsByIds");
  const bearer = await token();
  // Read before counting starts: the test's own read goes through the same client.
  const stored = await hub()
    .client.db(subgraphDatabaseName(hub().dbPrefix, "cards"))
    .collection("cards")
    .countDocuments({ personId: { $in: ids } });
  hub().commands.length = 0;
  const result = await graphql<{ persons: { id: string; cards: { id: string }[] }[] }>(
    hub().gateway.url,
    query,
    { ids },
    bearer,
  );
  expect(result.errors).toBeUndefined();
  expect(result.data!.persons.map((p) => p.id)).toEqual(ids);
  // Every card of those persons, from the one batched read.
  expect(result.data!.persons.flatMap((p) => p.cards).length).toBe(stored);
  // The outbox relays poll in the background; their reads are not the query's.
  return countByCollection(hub().commands.filter((e) => !isRelayCommand(e.commandName, e.command)));
}

describe("PersonsByIds: database round trips do not grow with the number of persons", () => {
  it("issues exactly one MongoDB command per collection it reads, 4 in all, for 10, 50 and 100 ids", async () => {
    // The demo has 60 persons: 40 more, registered with a card each, make 100.
    const ids = hub().demo!.persons.map((p) => p._id);
    while (ids.length < 100) ids.push((await personWithCard(hub().gateway.url)).personId);
    for (const count of [10, 50, 100]) {
      const commands = await commandsFor(ids.slice(0, count));
      // persons, cards, card passwords and bank accounts, each read once (batched).
      expect(
        Object.fromEntries(
          [...commands].map(([key, n]) => [key.slice(key.indexOf("_") + 1), n] as const),
        ),
        `${count} ids`,
      ).toEqual({
        "persons.persons": 1,
        "cards.cards": 1,
        "passwords.card_passwords": 1,
        "bank_accounts.bank_accounts": 1,
      });
    }
  });

  it("answers null in place of an unknown id, keeping the order", async () => {
    const known = hub().demo!.persons[3]!._id;
    const result = await graphql<{ persons: ({ id: string } | null)[] }>(
      hub().gateway.url,
      await contractOperation("PersonsByIds"),
      { ids: ["p_unknown", known] },
      await token(),
    );
    expect(result.data!.persons).toEqual([null, expect.objectContaining({ id: known })]);
  });
});

describe("PersonCards: one read of the cards collection, without what reads do not show", () => {
  it("a replaced card and its replacement link each other from that one read, and no read brings a card's history or records", async () => {
    const { cardId, personId, idNumber } = await personWithCard(hub().gateway.url);
    await runCardLife(hub().gateway.url, { cardId, personId });
    const replaced = await run<{ replaceCard: { newCard: { id: string } } }>(
      hub().gateway.url,
      "ReplaceCard",
      { cardId, reason: "STAINED", idempotencyKey: `batch-replace-${cardId}` },
    );
    expect(replaced.errors).toBeUndefined();
    const newCardId = replaced.data!.replaceCard.newCard.id;

    hub().commands.length = 0;
    const result = await graphql<{
      personByIdNumber: {
        cards: { id: string; replaces: { id: string } | null; replacedBy: { id: string } | null }[];
      };
    }>(hub().gateway.url, await contractOperation("PersonCards"), { idNumber }, await token());
    expect(result.errors).toBeUndefined();
    const byId = new Map(result.data!.personByIdNumber.cards.map((card) => [card.id, card]));
    expect(byId.get(cardId)?.replacedBy).toEqual(expect.objectContaining({ id: newCardId }));
    expect(byId.get(newCardId)?.replaces).toEqual(expect.objectContaining({ id: cardId }));

    // The loaders' reads (by a set of persons, or by a set of ids: histories). Background work
    // in the meantime is not the query's: a late event applied to a card reads that one card by
    // its id, the claim sweep reads a claimed card by its person and id, and the relay's sweep
    // reads by `outgoingSince`.
    const cardReads = hub().commands.filter((e) => {
      const filter = e.command["filter"] as Record<string, { $in?: unknown } | undefined>;
      return (
        e.commandName === "find" &&
        e.command["find"] === "cards" &&
        (filter["personId"]?.$in !== undefined || filter["_id"]?.$in !== undefined)
      );
    });
    expect(cardReads, JSON.stringify(cardReads.map((e) => e.command["filter"]))).toHaveLength(1);
    expect(cardReads[0]!.command["filter"]).toHaveProperty("personId");
    const projection = cardReads[0]!.command["projection"] as Record<string, unknown>;
    expect(projection).toEqual(expect.objectContaining({ status: 1, replacesId: 1 }));
    for (const field of ["history", "keys", "outgoing"])
      expect(projection).not.toHaveProperty(field);
  });
});
