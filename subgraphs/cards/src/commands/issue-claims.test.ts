import { createLogger, InjectedCrash, isRelayCommand, startOutboxRelay } from "@hub/kit";
import type { CommandStartedEvent } from "mongodb";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import {
  freshCards,
  issuePlan,
  issueStoppedAfterClaim as stoppedAfterClaim,
  metaFor,
} from "../testing/card-fixtures.js";

const client = useTestMongo({ monitorCommands: true });

/** A person registered, and an issue for them whose process stops right after its claim. */
const issueStoppedAfterClaim = (draws?: readonly string[]) =>
  stoppedAfterClaim(client(), "claims", draws);

describe("issue claims left without their card", () => {
  it("R-DUP-1: a claim whose writer stopped is completed by the claim sweep: the card stored, its CardIssued released once, the claim cleared", async () => {
    const { cards, outbox, registry, commands, claim } = await issueStoppedAfterClaim();
    // The card exists only inside the claim: the outbox's own sweep does not see it.
    expect(await cards.cards.countDocuments({ personId: "p_1" })).toBe(0);
    expect(await outbox.releaseStranded(0)).toBe(0);
    // Nobody hears of the card before it is stored (receivers rely on it: cards exist before
    // their events).
    expect(await outbox.events.countDocuments({ type: "CardIssued" })).toBe(0);
    // Too young: its writer may only be slow.
    expect(await commands.completeStrandedClaims(60_000)).toBe(0);
    expect(await cards.cards.countDocuments({ personId: "p_1" })).toBe(0);

    expect(await commands.completeStrandedClaims(0)).toBe(1);
    const stored = await cards.cards.findOne({ personId: "p_1", _id: claim._id });
    expect(stored).toMatchObject({ number: claim.number, outgoing: [], outgoingSince: null });
    expect(await cards.cardNumbers.findOne({ _id: `44:${claim.number}` })).toMatchObject({
      cardId: claim._id,
    });
    const issued = await outbox.events.find({ type: "CardIssued" }).toArray();
    expect(issued.map((doc) => doc.destination).sort()).toEqual([
      "bank-accounts",
      "feed",
      "passwords",
    ]);
    expect(new Set(issued.map((doc) => doc.eventId)).size).toBe(1);
    expect((await registry.find("p_1"))!.issuing).toBeNull();

    // Swept again: nothing left to do, nothing released twice.
    expect(await commands.completeStrandedClaims(0)).toBe(0);
    expect(await outbox.events.countDocuments({ type: "CardIssued" })).toBe(3);
    // The stopped request's replay answers the card it claimed.
    const replay = await commands.issue(
      metaFor("issueCard", { key: "k-stopped" }),
      issuePlan("p_1"),
    );
    expect(replay).toMatchObject({ cardId: claim._id, card: { number: claim.number } });
  });

  it("R-CARD-9: a claimed card whose number another card took meanwhile is stored with a new number, and the person's next issue succeeds", async () => {
    // p_1's stopped issue and p_2's issue both draw A00000001; then the draws go on.
    const { cards, registry, commands, claim } = await issueStoppedAfterClaim([
      "A00000001",
      "A00000001",
      "B00000002",
      "C00000003",
    ]);
    expect(claim.number).toBe("A00000001");
    const other = await commands.issue(metaFor("issueCard"), issuePlan("p_2"));
    expect(other.card.number).toBe("A00000001");

    // The person's next issue (another province) stores the stranded card first: its number is
    // taken, so it gets the next free one, rather than failing with a duplicate key for ever.
    const next = await commands.issue(metaFor("issueCard"), issuePlan("p_1", "51"));
    const stranded = await cards.cards.findOne({ _id: claim._id });
    expect(stranded?.number).toBe("B00000002");
    expect(next.card).toMatchObject({ province: "51", number: "C00000003" });
    expect(await cards.cards.countDocuments({ number: "A00000001", province: "44" })).toBe(1);
    // The stopped request's record was rewritten with the claim: its replay shows the number the
    // card has.
    const replay = await commands.issue(
      metaFor("issueCard", { key: "k-stopped" }),
      issuePlan("p_1"),
    );
    expect(replay).toMatchObject({ cardId: claim._id, card: { number: "B00000002" } });
    expect((await registry.find("p_1"))!.keys!.length).toBe(1);
  });

  it("R-CARD-9: the claim sweep renumbers a stranded card whose number was taken, and a crash between renumbering and storing is finished by the next sweep with the same number", async () => {
    const { cards, registry, commands, claim } = await issueStoppedAfterClaim([
      "A00000001",
      "A00000001",
      "B00000002",
    ]);
    await commands.issue(metaFor("issueCard"), issuePlan("p_2"));
    // The renumbered claim is written, then the sweep's process stops before the card is.
    const reserve = cards.reserveNumber.bind(cards);
    let stopped = false;
    cards.reserveNumber = async (province, number, cardId) => {
      if (number === "B00000002" && !stopped) {
        stopped = true;
        throw new InjectedCrash("after-issue-claim");
      }
      return reserve(province, number, cardId);
    };
    await expect(commands.completeStrandedClaims(0)).rejects.toBeInstanceOf(InjectedCrash);
    expect((await registry.find("p_1"))!.issuing!.card.number).toBe("B00000002");
    expect(await cards.cards.countDocuments({ _id: claim._id })).toBe(0);

    expect(await commands.completeStrandedClaims(0)).toBe(1);
    expect((await cards.cards.findOne({ _id: claim._id }))?.number).toBe("B00000002");
    // Nothing reserved without its card: one number per card.
    expect(await cards.cardNumbers.countDocuments({})).toBe(2);
    // Stored as claimed: the claim is cleared, and the next sweep has nothing to do.
    expect((await registry.find("p_1"))!.issuing).toBeNull();
    expect(await commands.completeStrandedClaims(0)).toBe(0);
  });

  it("clearing the claim of a card its issue stored sends only commands tagged as the relay's (a request's own command counts leave them out)", async () => {
    const { db, registry, commands } = await freshCards(client(), "claims");
    await registry.add("p_1", new Date("2026-11-01T00:00:00Z"));
    await commands.issue(metaFor("issueCard"), issuePlan("p_1"));
    // The issue leaves its claim for the sweep to clear.
    expect((await registry.find("p_1"))!.issuing).not.toBeNull();
    const sent: CommandStartedEvent[] = [];
    const listener = (event: CommandStartedEvent) => {
      if (event.databaseName === db.databaseName) sent.push(event);
    };
    client().on("commandStarted", listener);
    try {
      expect(await commands.completeStrandedClaims(0)).toBe(0);
    } finally {
      client().off("commandStarted", listener);
    }
    expect((await registry.find("p_1"))!.issuing).toBeNull();
    const untagged = sent.filter((event) => !isRelayCommand(event.commandName, event.command));
    expect(untagged.map((event) => [event.commandName, event.command[event.commandName]])).toEqual(
      [],
    );
    expect(sent.map((event) => event.command[event.commandName])).toEqual(
      expect.arrayContaining(["known_persons", "cards"]),
    );
  });

  it("the relay's poll runs the claim sweep the subgraph registers, with no later issue for the person", async () => {
    const { cards, outbox, claim } = await issueStoppedAfterClaim();
    const relay = startOutboxRelay({
      outbox,
      target: () => undefined,
      serviceToken: async () => "t",
      logger: createLogger("claims-test", "silent"),
      pollMs: 20,
    });
    try {
      // A claim counts as stranded once it is the outbox's stranded age (5 s) old: the poll waits
      // past that, with room for a loaded machine.
      await expect
        .poll(() => cards.cards.countDocuments({ _id: claim._id }), {
          timeout: outbox.strandedAfterMs + 15_000,
        })
        .toBe(1);
    } finally {
      await relay.stop();
    }
  }, 30_000);
});
