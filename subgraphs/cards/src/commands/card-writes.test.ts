import { ensureIdempotencyIndexes, Outbox, type Caller } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { HISTORY_KEPT } from "../store/card-document.js";
import { CardRepository } from "../store/card-repository.js";
import { PersonRegistry } from "../store/person-registry.js";
import { CardCommands } from "./card-commands.js";
import type { CommandMeta } from "./command-meta.js";

const client = useTestMongo({ monitorCommands: true });
const caller: Caller = { sub: "op-1", channel: "COUNTER", scopes: new Set(["cards:write"]) };
const at = new Date("2026-11-25T09:00:00Z");
const meta = (operation: string, idempotencyKey?: string): CommandMeta => ({
  caller,
  now: at,
  operation,
  input: { operation },
  effects: null,
  idempotencyKey,
});

/** A card's state as its events carry it. */
function cardState(cardId: string, personId: string, status: string) {
  return {
    cardId,
    personId,
    province: "44",
    issuingBank: "ICBC",
    status,
    expiresAt: at.toISOString(),
    cardVersion: 2,
  };
}

async function cardInUse() {
  const db = client().db(`cards_history_${Math.random().toString(36).slice(2, 10)}`);
  const repository = new CardRepository(db);
  const registry = new PersonRegistry(db);
  const outbox = new Outbox(db, "cards");
  const commands = new CardCommands(repository, registry, outbox);
  await Promise.all([
    repository.ensureIndexes(),
    outbox.ensureIndexes(),
    ensureIdempotencyIndexes(db),
  ]);
  await registry.add("p_1", at);
  const { cardId } = await commands.issue(meta("issueCard"), {
    personId: "p_1",
    province: "44",
    issuingBank: "ICBC",
    issuedAt: at,
  });
  await commands.run(cardId, { kind: "COLLECT", collectedAt: at }, meta("collectCard"));
  return { repository, commands, outbox, cardId };
}

describe("a card's history kept inside the card", () => {
  it("keeps the newest changes in the card and moves older ones out in buckets, losing none and keeping their order", async () => {
    const { repository, commands, cardId } = await cardInUse();
    const changes = 2 * HISTORY_KEPT + 10;
    for (let i = 0; i < changes; i++)
      await commands.run(
        cardId,
        i % 2 === 0 ? { kind: "REPORT_LOSS", temporary: true } : { kind: "WITHDRAW_LOSS_REPORT" },
        meta(i % 2 === 0 ? "reportCardLoss" : "withdrawLossReport"),
      );
    const card = await repository.cards.findOne({ _id: cardId });
    expect(card!.history!.length).toBeLessThanOrEqual(HISTORY_KEPT);
    expect(card!.archivedHistory).toBeGreaterThan(0);
    const history = await repository.findEventsByCardIds([cardId]);
    // issued, collected, then every change in order
    expect(history).toHaveLength(changes + 2);
    expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i));
    expect(history.slice(0, 4).map((e) => e.type)).toEqual([
      "ISSUED",
      "COLLECTED",
      "LOSS_REPORTED_TEMPORARY",
      "LOSS_REPORT_WITHDRAWN",
    ]);
    // Few archive writes: one bucket per HISTORY_KEPT / 2 changes.
    expect(await repository.historyBuckets.countDocuments({ cardId })).toBe(
      card!.archivedHistory! / (HISTORY_KEPT / 2),
    );
  });

  it("a command on one card is one guarded update of that card (no transaction), and a replay changes nothing", async () => {
    const { repository, commands, outbox, cardId } = await cardInUse();
    const seen: string[] = [];
    const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
      if (event.command["autocommit"] === false || event.commandName === "commitTransaction")
        seen.push(`transaction ${event.commandName}`);
      else seen.push(`${event.commandName} ${String(event.command[event.commandName])}`);
    };
    client().on("commandStarted", listener);
    try {
      const first = await commands.run(
        cardId,
        { kind: "REPORT_LOSS", temporary: true },
        meta("reportCardLoss", "k-1"),
      );
      expect(seen).toEqual(["find cards", "update cards", "insert outbox", "update cards"]);
      seen.length = 0;
      const again = await commands.run(
        cardId,
        { kind: "REPORT_LOSS", temporary: true },
        meta("reportCardLoss", "k-1"),
      );
      expect(again.card).toEqual(first.card);
      // The replay reads the card, again as a majority holds it (it answers from the record it
      // found there), and looks for its first call's events still on their way.
      expect(seen).toEqual(["find cards", "find cards", "find outbox"]);
    } finally {
      client().off("commandStarted", listener);
    }
    // The change's event went to the outbox (once for each receiver); the card no longer carries it.
    expect(
      await outbox.events.countDocuments({
        type: "CardStatusChanged",
        destination: "bank-accounts",
      }),
    ).toBe(1);
    expect((await repository.cards.findOne({ _id: cardId }))!.outgoing).toEqual([]);
  });

  it("events a writer left in its card are released by the sweep, once", async () => {
    const { repository, outbox, cardId } = await cardInUse();
    const [event] = outbox.prepare({
      type: "CardStatusChanged",
      payload: { ...cardState(cardId, "p_1", "NORMAL"), change: "COLLECTED", fromStatus: "NORMAL" },
      actor: "t",
      channel: "COUNTER",
      occurredAt: at,
    });
    await repository.cards.updateOne(
      { _id: cardId },
      { $set: { outgoing: [event!], outgoingSince: new Date(Date.now() - 60_000) } },
    );
    expect(await outbox.releaseStranded(5_000)).toBe(1);
    expect(await outbox.releaseStranded(5_000)).toBe(0);
    expect(await outbox.events.countDocuments({ _id: event!._id })).toBe(1);
  });

  it("an issue whose writer stopped after claiming the card is completed by the next issue for the person, which then counts that card (R-DUP-1)", async () => {
    const { repository, commands, outbox } = await cardInUse();
    const registry = new PersonRegistry(repository.db);
    await registry.add("p_2", at);
    // The claim of a stopped writer: recorded on the person, its card never stored.
    const claimedCard = {
      ...(await repository.cards.findOne({ personId: "p_1" }))!,
      _id: "c_claimed",
      personId: "p_2",
      number: "Z00000001",
      province: "51",
      outgoing: outbox.prepare({
        type: "CardIssued",
        payload: { ...cardState("c_claimed", "p_2", "ARCHIVED"), replacesId: null },
        actor: "t",
        channel: "COUNTER",
        occurredAt: at,
      }),
      outgoingSince: at,
    };
    expect(
      await registry.claimIssue((await registry.find("p_2"))!, { card: claimedCard, at, keys: [] }),
    ).toBe(true);
    const again = commands.issue(meta("issueCard"), {
      personId: "p_2",
      province: "51",
      issuingBank: "ICBC",
      issuedAt: at,
    });
    await expect(again).rejects.toMatchObject({
      code: "CONFLICT",
      extensions: { cardId: "c_claimed" },
    });
    expect(await repository.cards.countDocuments({ personId: "p_2" })).toBe(1);
    // Released once for each of its receivers: the bank, the passwords subgraph and the feed.
    expect(await outbox.events.countDocuments({ eventId: claimedCard.outgoing[0]!.eventId })).toBe(
      3,
    );
  });
});
