import { Inbox, prepareTransactions, systemClock } from "@hub/kit";
import { receivedEvent, useTestMongo } from "@hub/kit/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CardEventLog } from "../store/card-event-log.js";
import type { LogTail } from "../store/log-tail.js";
import { feedEventHandlers } from "./record-event.js";

const client = useTestMongo();
let dbs = 0;

/** CardIssued of card n: the feed logs it as CARD_ISSUED. */
const issued = (n: number) =>
  receivedEvent(
    `ev-${n}`,
    "CardIssued",
    {
      cardId: `c${n}`,
      personId: `p${n % 3}`,
      province: "44",
      issuingBank: "ICBC",
      status: "ARCHIVED",
      expiresAt: "2036-01-01T00:00:00.000Z",
      cardVersion: 1,
      replacesId: null,
    },
    "cards",
  );

describe("the feed as a receiver: any order, duplicates and concurrent deliveries", () => {
  it("logs each event exactly once, numbered in the order its entries were stored", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Deliveries: event numbers (repeats are duplicates), in batches, some batches at once.
        fc.array(fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 3 }),
        async (batches, concurrency) => {
          const db = client().db(`feed_receiver_${dbs++}`);
          const log = new CardEventLog(db);
          await Promise.all([log.ensureIndexes(), prepareTransactions(db)]);
          const handedToTail: number[] = [];
          const tail = { appended: (entry: { seq: number }) => handedToTail.push(entry.seq) };
          const inbox = new Inbox(
            "feed",
            feedEventHandlers(log, tail as unknown as LogTail, systemClock),
          );
          for (let i = 0; i < batches.length; i += concurrency) {
            const results = await Promise.all(
              batches.slice(i, i + concurrency).map((batch) => inbox.applyBatch(batch.map(issued))),
            );
            for (const result of results) expect(result.failed).toBeNull();
          }
          const sent = new Set(batches.flat().map((n) => `ev-${n}`));
          const entries = await log.entries.find().sort({ seq: 1 }).toArray();
          expect(entries.map((e) => e._id).sort()).toEqual([...sent].sort());
          expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
          // The tail was handed each new entry once, in number order.
          expect(handedToTail).toEqual(entries.map((e) => e.seq));
          expect(entries.every((e) => e.type === "CARD_ISSUED")).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});
