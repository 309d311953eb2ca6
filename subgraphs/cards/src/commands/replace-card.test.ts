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

  it("R-CARD-9: the feed's lane holds the old card's events, its CARD_REPLACED, then the new card's CardIssued, after a loss report a faster replica stamped ahead of this one's clock", async () => {
    const { cards, outbox, registry, commands } = await freshCards(client(), "replace_order");
    await registry.add("p_1", new Date("2026-11-01T00:00:00Z"));
    const { cardId } = await commands.issue(metaFor("issueCard"), issuePlan("p_1"));
    await commands.run(cardId, { kind: "REPORT_LOSS", temporary: true }, metaFor("reportCardLoss"));
    // As if another replica, its clock a minute ahead, had stamped the loss report.
    const ahead = new Date(Date.now() + 60_000);
    await outbox.events.updateMany(
      { "payload.change": "LOSS_REPORTED_TEMPORARY" },
      { $set: { enqueuedAt: ahead } },
    );
    await cards.cards.updateOne({ _id: cardId }, { $set: { enqueuedThrough: ahead } });
    const { newCard } = await commands.run(
      cardId,
      { kind: "REPLACE", reason: "LOST", instant: false },
      metaFor("replaceCard", { key: "replace-order" }),
    );
    const lane = await outbox.events
      .find({ destination: "feed" })
      .sort({ enqueuedAt: 1, _id: 1 })
      .toArray();
    expect(lane.map((doc) => [doc.payload["cardId"], doc.payload["change"] ?? doc.type])).toEqual([
      [cardId, "CardIssued"],
      [cardId, "LOSS_REPORTED_TEMPORARY"],
      [cardId, "REPLACED"],
      [newCard!.id, "CardIssued"],
    ]);
    // Each card records its last stamp: their next writes, by any replica, stamp after it.
    expect((await cards.cards.findOne({ _id: cardId }))?.enqueuedThrough).toEqual(
      lane[2]!.enqueuedAt,
    );
    expect((await cards.cards.findOne({ _id: newCard!.id }))?.enqueuedThrough).toEqual(
      lane[3]!.enqueuedAt,
    );
  });
});
