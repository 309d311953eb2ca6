import { derivedEventId, Inbox, prepareTransactions, systemClock, type HubEvent } from "@hub/kit";
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

/**
 * The bank's or passwords' event n about card n, as cards passes it on (ForwardedToFeed, under
 * the id derived from the original's): an activation, a password lock, the account's cancellation
 * at the bank, or an account status the feed does not report (it follows the card's own change).
 */
function passedOn(n: number): HubEvent {
  const sourceId = `src-${n}`;
  const cardId = `c${n}`;
  const personId = `p${n % 3}`;
  const kinds = [
    {
      type: "FinancialFunctionActivated" as const,
      payload: { cardId, personId, agent: null, accountVersion: 2, fromStatus: "NOT_ACTIVATED" },
    },
    {
      type: "CardPasswordStateChanged" as const,
      payload: { cardId, personId, change: "LOCKED" as const, fromState: "SET", state: "LOCKED" },
    },
    {
      type: "BankAccountStatusChanged" as const,
      payload: { cardId, personId, status: "CANCELLED", fromStatus: "ACTIVE", accountVersion: 4 },
    },
    {
      type: "BankAccountStatusChanged" as const,
      payload: {
        cardId,
        personId,
        status: "LOSS_REPORTED",
        fromStatus: "ACTIVE",
        accountVersion: 3,
      },
    },
  ];
  return receivedEvent(
    derivedEventId(sourceId, "ForwardedToFeed"),
    "ForwardedToFeed",
    { sourceId, source: kinds[n % kinds.length]! },
    "cards",
  );
}

/** What the log says of event n (null: no entry), as its id, type and producer. */
function expectedEntry(n: number) {
  if (n < 8)
    return { _id: `ev-${n}`, type: "CARD_ISSUED", source: "cards", sourceType: "CardIssued" };
  const event = passedOn(n);
  const { source } = event.payload as { source: { type: string } };
  const type = {
    0: "FINANCIAL_FUNCTION_ACTIVATED",
    1: "CARD_PASSWORD_LOCKED",
    2: "BANK_ACCOUNT_CANCELLED",
    3: null,
  }[(n % 4) as 0 | 1 | 2 | 3];
  if (!type) return null;
  const producer = source.type === "CardPasswordStateChanged" ? "passwords" : "bank-accounts";
  return { _id: event.id, type, source: producer, sourceType: source.type };
}

/** Events 0..7 are the cards' own, 8..15 passed on by cards (a repeat is a redelivery). */
const eventOf = (n: number): HubEvent => (n < 8 ? issued(n) : passedOn(n));

describe("the feed as a receiver: any order, duplicates and concurrent deliveries", () => {
  it("logs each event exactly once, numbered in the order its entries were stored; a passed-on event as the change its producer made", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Deliveries: event numbers (repeats are duplicates), in batches, some batches at once.
        fc.array(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 4 }), {
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
              batches
                .slice(i, i + concurrency)
                .map((batch) => inbox.applyBatch(batch.map(eventOf))),
            );
            for (const result of results) expect(result.failed).toBeNull();
          }
          const sent = [...new Set(batches.flat())];
          const expected = sent.flatMap((n) => expectedEntry(n) ?? []);
          const entries = await log.read(0, {}, 1_000);
          const byId = (a: { _id: string }, b: { _id: string }) => a._id.localeCompare(b._id);
          expect(
            entries
              .map(({ _id, type, source, sourceType }) => ({ _id, type, source, sourceType }))
              .sort(byId),
          ).toEqual(expected.sort(byId));
          expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
          // The tail was handed each new entry once, in number order.
          expect(handedToTail).toEqual(entries.map((e) => e.seq));
          // Each entry names its card and holder (cards fills in the holder it passes on).
          for (const entry of entries)
            expect(entry).toMatchObject({
              cardId: expect.any(String),
              personId: expect.any(String),
            });
        },
      ),
      { numRuns: 25 },
    );
  });
});
