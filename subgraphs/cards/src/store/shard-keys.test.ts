import { EffectScope, type ReceivedEvent } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { freshCards, issuePlan, metaFor, watchWrites } from "../testing/card-fixtures.js";
import { HISTORY_KEPT } from "./card-document.js";

const client = useTestMongo({ monitorCommands: true });

/** The planned shard key of each collection the cards subgraph writes (docs/scale.md). */
const SHARD_KEYS: Record<string, string[]> = {
  cards: ["personId", "_id"],
  card_history_buckets: ["cardId", "firstSeq"],
  known_persons: ["_id"],
  card_numbers: ["_id"],
};

describe("every single-document write names its document by its full shard key", () => {
  it("a card's whole life, its events and a replacement with history moved out in its transaction", async () => {
    const { db, registry, commands, handlers, cards, outbox } = await freshCards(
      client(),
      "shard_keys",
    );
    const watched = watchWrites(client(), db.databaseName);
    const reads: { collection: string; filter: Record<string, unknown> }[] = [];
    const listener = (event: {
      databaseName: string;
      commandName: string;
      command: Record<string, unknown>;
    }) => {
      if (event.databaseName !== db.databaseName) return;
      if (event.commandName === "aggregate" || event.commandName === "find") {
        const collection = String(event.command[event.commandName]);
        const pipeline = event.command["pipeline"] as Record<string, unknown>[] | undefined;
        const filter = (pipeline?.[0]?.["$match"] ?? event.command["filter"] ?? {}) as Record<
          string,
          unknown
        >;
        reads.push({ collection, filter });
      }
    };
    client().on("commandStarted", listener);
    let cardId = "";
    try {
      const event = { actor: "t", channel: "BANK_COUNTER" as const, source: "test" };
      const occurredAt = "2026-11-25T10:00:00.000Z";
      await handlers.ElectronicPasswordLocked(
        {
          ...event,
          id: "e-lock",
          occurredAt,
          type: "ElectronicPasswordLocked",
          payload: { personId: "p_1", lockedUntil: "2026-11-26T00:00:00.000Z" },
        },
        new EffectScope(),
      );
      await handlers.PersonRegistered(
        {
          ...event,
          id: "e-reg",
          occurredAt,
          type: "PersonRegistered",
          payload: { personId: "p_1" },
        },
        new EffectScope(),
      );
      cardId = (await commands.issue(metaFor("issueCard"), issuePlan("p_1"))).cardId;
      const bank: ReceivedEvent<"BankAccountStatusChanged"> = {
        ...event,
        id: "e-bank",
        occurredAt,
        type: "BankAccountStatusChanged",
        payload: { cardId, status: "ACTIVE", accountVersion: 2 },
      };
      await handlers.BankAccountStatusChanged(bank, new EffectScope());
      await handlers.FinancialFunctionActivated(
        {
          ...event,
          id: "e-act",
          occurredAt,
          type: "FinancialFunctionActivated",
          payload: { cardId, agent: null, accountVersion: 2 },
        },
        new EffectScope(),
      );
      // Events the feed hears of through cards: passed on in a write of the card.
      await handlers.CardPasswordStateChanged(
        {
          ...event,
          id: "e-pwd",
          occurredAt,
          type: "CardPasswordStateChanged",
          payload: { cardId, personId: "p_1", change: "LOCKED", fromState: "SET", state: "LOCKED" },
        },
        new EffectScope(),
      );
      await handlers.BankAccountStatusChanged(
        {
          ...bank,
          id: "e-bank-cancel",
          payload: { cardId, status: "CANCELLED", fromStatus: "ACTIVE", accountVersion: 3 },
        },
        new EffectScope(),
      );
      // Fill the card's kept history so the replacement's transaction moves the oldest out.
      for (let i = (await cards.findEventsByCardIds([cardId])).length; i < HISTORY_KEPT; i++)
        await commands.run(
          cardId,
          i % 2 === 0 ? { kind: "REPORT_LOSS", temporary: true } : { kind: "WITHDRAW_LOSS_REPORT" },
          metaFor(i % 2 === 0 ? "reportCardLoss" : "withdrawLossReport"),
        );
      expect(await cards.historyBuckets.countDocuments({})).toBe(0);
      await commands.run(
        cardId,
        { kind: "REPLACE", reason: "STAINED", instant: false },
        metaFor("replaceCard", { key: "r-1" }),
      );
      expect(await cards.historyBuckets.countDocuments({ cardId })).toBe(1);
      await commands.completeStrandedClaims(0);
      await outbox.releaseStranded(0);
    } finally {
      watched.stop();
      client().off("commandStarted", listener);
    }

    const written = new Set(watched.writes.map((write) => write.collection));
    for (const collection of ["cards", "known_persons"]) expect(written).toContain(collection);
    const unkeyed = watched.writes
      .filter((write) => SHARD_KEYS[write.collection])
      .filter((write) => !SHARD_KEYS[write.collection]!.every((key) => key in write.filter))
      .map((write) => `${write.command} ${write.collection} ${JSON.stringify(write.filter)}`);
    expect(unkeyed).toEqual([]);
    // The bucket's look before its insert inside the transaction (by its id) goes to one shard.
    const bucketLooks = reads.filter(
      (read) =>
        read.collection === "card_history_buckets" && typeof read.filter["_id"] === "string",
    );
    expect(bucketLooks.length).toBeGreaterThan(0);
    for (const look of bucketLooks)
      expect(look.filter).toMatchObject({ cardId, firstSeq: expect.any(Number) });
  });
});
