import { InjectedCrash } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { crashOnceAt, freshCards, issuePlan, metaFor } from "../testing/card-fixtures.js";

const client = useTestMongo();
let unhook: () => void = () => undefined;
afterEach(() => unhook());

describe("replaceCard releases what the card carries", () => {
  it("R-CARD-9: events a stopped writer left in the card reach the outbox once, in the replacement's transaction, and the card no longer carries them", async () => {
    const { cards, outbox, registry, commands } = await freshCards(client(), "replace_carried");
    await registry.add("p_1", new Date("2026-11-01T00:00:00Z"));
    const { cardId } = await commands.issue(metaFor("issueCard"), issuePlan("p_1"));
    // A loss report whose process stops after its write, before releasing its event.
    unhook = crashOnceAt("after-carrying-write");
    await expect(
      commands.run(cardId, { kind: "REPORT_LOSS", temporary: true }, metaFor("reportCardLoss")),
    ).rejects.toBeInstanceOf(InjectedCrash);
    const carried = (await cards.cards.findOne({ _id: cardId }))!.outgoing!;
    // One per receiver: the bank, the passwords subgraph and the feed.
    expect(carried.map((doc) => doc.type)).toEqual([
      "CardStatusChanged",
      "CardStatusChanged",
      "CardStatusChanged",
    ]);
    expect(await outbox.events.countDocuments({ type: "CardStatusChanged" })).toBe(0);

    const replaced = await commands.run(
      cardId,
      { kind: "REPLACE", reason: "LOST", instant: false },
      metaFor("replaceCard", { key: "replace-1" }),
    );
    expect(replaced.newCard).toBeDefined();
    const old = await cards.cards.findOne({ _id: cardId });
    expect(old).toMatchObject({ status: "CANCELLED", outgoing: [], outgoingSince: null });
    // The loss report's event, once per receiver, and the replacement's own change after it.
    const lossReported = await outbox.events.find({ eventId: carried[0]!.eventId }).toArray();
    expect(lossReported.map((doc) => doc._id).sort()).toEqual(carried.map((doc) => doc._id).sort());
    expect(
      await outbox.events.countDocuments({ type: "CardStatusChanged", "payload.cardId": cardId }),
    ).toBe(6);
    // Nothing left for the stranded sweep to release again.
    expect(await outbox.releaseStranded(0)).toBe(0);
    expect(await outbox.events.countDocuments({ eventId: carried[0]!.eventId })).toBe(3);
  });
});
