import { isRelayCommand } from "@hub/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personWithCard, run, runCardLife } from "./support/cards.js";
import {
  contractOperation,
  countByCollection,
  graphql,
  startTestHub,
  token,
  type TestHub,
} from "./support/hub.js";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});

async function commandsFor(ids: string[]): Promise<Map<string, number>> {
  const query = await contractOperation("PersonsByIds");
  const bearer = await token();
  hub.commands.length = 0;
  const result = await graphql<{ persons: { id: string; cards: { id: string }[] }[] }>(
    hub.gateway.url,
    query,
    { ids },
    bearer,
  );
  expect(result.errors).toBeUndefined();
  expect(result.data!.persons.map((p) => p.id)).toEqual(ids);
  expect(result.data!.persons.flatMap((p) => p.cards).length).toBeGreaterThanOrEqual(ids.length);
  // The outbox relays poll in the background; their reads are not the query's.
  return countByCollection(hub.commands.filter((e) => !isRelayCommand(e.commandName, e.command)));
}

describe("PersonsByIds: database round trips do not grow with the number of persons", () => {
  it("issues the same MongoDB commands for 10 and for 50 ids, at most 2 per collection", async () => {
    const ids = hub.demo!.persons.map((p) => p._id);
    const ten = await commandsFor(ids.slice(0, 10));
    const fifty = await commandsFor(ids.slice(0, 50));
    expect(fifty).toEqual(ten);
    // persons, cards, card passwords and bank accounts are all read
    expect([...ten.keys()].sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/_persons\.persons$/),
        expect.stringMatching(/_cards\.cards$/),
        expect.stringMatching(/_passwords\.card_passwords$/),
        expect.stringMatching(/_bank_accounts\.bank_accounts$/),
      ]),
    );
    for (const count of ten.values()) expect(count).toBeLessThanOrEqual(2);
  });

  it("answers null in place of an unknown id, keeping the order", async () => {
    const known = hub.demo!.persons[3]!._id;
    const result = await graphql<{ persons: ({ id: string } | null)[] }>(
      hub.gateway.url,
      await contractOperation("PersonsByIds"),
      { ids: ["p_unknown", known] },
      await token(),
    );
    expect(result.data!.persons).toEqual([null, expect.objectContaining({ id: known })]);
  });
});

describe("PersonCards: one read of the cards collection, without what reads do not show", () => {
  it("a replaced card and its replacement link each other from that one read, and no read brings a card's history or records", async () => {
    const { cardId, personId, idNumber } = await personWithCard(hub.gateway.url);
    await runCardLife(hub.gateway.url, { cardId, personId });
    const replaced = await run<{ replaceCard: { newCard: { id: string } } }>(
      hub.gateway.url,
      "ReplaceCard",
      { cardId, reason: "STAINED", idempotencyKey: `batch-replace-${cardId}` },
    );
    expect(replaced.errors).toBeUndefined();
    const newCardId = replaced.data!.replaceCard.newCard.id;

    hub.commands.length = 0;
    const result = await graphql<{
      personByIdNumber: {
        cards: { id: string; replaces: { id: string } | null; replacedBy: { id: string } | null }[];
      };
    }>(hub.gateway.url, await contractOperation("PersonCards"), { idNumber }, await token());
    expect(result.errors).toBeUndefined();
    const byId = new Map(result.data!.personByIdNumber.cards.map((card) => [card.id, card]));
    expect(byId.get(cardId)?.replacedBy).toEqual(expect.objectContaining({ id: newCardId }));
    expect(byId.get(newCardId)?.replaces).toEqual(expect.objectContaining({ id: cardId }));

    // The loaders' reads (by person, or by a set of ids); a late event applied to a card in the
    // meantime reads that one card by its id, and the relay's sweep reads by `outgoingSince`.
    const cardReads = hub.commands.filter((e) => {
      const filter = e.command["filter"] as Record<string, { $in?: unknown } | undefined>;
      return (
        e.commandName === "find" &&
        e.command["find"] === "cards" &&
        (filter["personId"] !== undefined || filter["_id"]?.$in !== undefined)
      );
    });
    expect(cardReads).toHaveLength(1);
    expect(cardReads[0]!.command["filter"]).toHaveProperty("personId");
    const projection = cardReads[0]!.command["projection"] as Record<string, unknown>;
    expect(projection).toEqual(expect.objectContaining({ status: 1, replacesId: 1 }));
    for (const field of ["history", "keys", "outgoing"])
      expect(projection).not.toHaveProperty(field);
  });
});
