import {
  derivedEventId,
  EffectScope,
  type EventType,
  type OutboxDocument,
  type ReceivedEvent,
} from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { MirroredBankAccountStatus } from "../model/enums.js";
import type { CardsParts } from "../subgraph.js";
import { freshCards, issuePlan, metaFor } from "../testing/card-fixtures.js";

const client = useTestMongo();

/**
 * The cards subgraph's receiver converges (docs/events.md): for any order, duplication,
 * delay and concurrency of delivery of one card's bank and password events and one person's
 * ElectronicPasswordLocked and PersonRegistered events, the final state is in-order
 * delivery's, and each of the card's events that the feed reports is passed on to it exactly
 * once, under the id derived from its own (docs/feed.md "Per-card order"). The handlers run for
 * real against the database, built as the server builds them.
 */

const STATUSES: MirroredBankAccountStatus[] = [
  "NOT_ACTIVATED",
  "ACTIVE",
  "LOSS_REPORTED",
  "CANCELLATION_REQUIRED",
  "CANCELLED",
];
const LOCK_BASE = Date.parse("2026-12-01T00:00:00Z");

type Delivery =
  | { type: "BankAccountStatusChanged"; version: number }
  | { type: "FinancialFunctionActivated" }
  | { type: "CardPasswordStateChanged"; index: number }
  | { type: "ElectronicPasswordLocked"; lock: number }
  | { type: "PersonRegistered" };

interface Scenario {
  /** The account's status at versions 1..n, in order (the producer's history). */
  statuses: MirroredBankAccountStatus[];
  /** Whether the bank activated the financial function (R-BANK-2). */
  activated: boolean;
  /** The card password's locks and resets, in order. */
  passwordChanges: ("LOCKED" | "RESET")[];
  /**
   * The card before any of the events arrived: issued, enabled already (the activation changes
   * nothing, R-CARD-4) or cancelled (R-CARD-10: it refuses to enable).
   */
  startsAs: "ARCHIVED" | "NORMAL" | "CANCELLED";
  /** Lock ends announced, in order, as hours after LOCK_BASE (a later lock may end earlier). */
  locks: number[];
  /** Where PersonRegistered falls among the person's events in the producers' order. */
  registeredAt: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  statuses: fc.array(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 5 }),
  activated: fc.boolean(),
  passwordChanges: fc.array(fc.constantFrom("LOCKED" as const, "RESET" as const), {
    maxLength: 3,
  }),
  startsAs: fc.constantFrom("ARCHIVED" as const, "NORMAL" as const, "CANCELLED" as const),
  locks: fc.array(fc.integer({ min: 0, max: 48 }), { maxLength: 4 }),
  registeredAt: fc.nat({ max: 4 }),
});

/** Each event as sent once, in the producers' order. */
function inOrder(s: Scenario): Delivery[] {
  const person: Delivery[] = s.locks.map((_, lock) => ({ type: "ElectronicPasswordLocked", lock }));
  person.splice(Math.min(s.registeredAt, person.length), 0, { type: "PersonRegistered" });
  return [
    ...s.statuses.map((_, i): Delivery => ({ type: "BankAccountStatusChanged", version: i + 1 })),
    ...(s.activated ? [{ type: "FinancialFunctionActivated" } as const] : []),
    ...s.passwordChanges.map((_, index): Delivery => ({ type: "CardPasswordStateChanged", index })),
    ...person,
  ];
}

/** The ids (after the card's id) of the card's events the feed reports: what cards passes on. */
function reportedByFeed(s: Scenario): string[] {
  const cancelledAt = s.statuses.flatMap((status, i) =>
    status === "CANCELLED" && s.statuses[i - 1] !== "CANCELLED" ? [`:v${i + 1}`] : [],
  );
  return [
    ...cancelledAt,
    ...(s.activated ? [":activated"] : []),
    ...s.passwordChanges.map((_, i) => `:password${i}`),
  ].sort();
}

/**
 * The deliveries the relays may make of `events`: each at least once (redeliveries, replicas),
 * in any order, in groups applied at the same time.
 */
function deliveries(events: Delivery[]) {
  return fc
    .tuple(
      fc.array(fc.integer({ min: 1, max: 3 }), {
        minLength: events.length,
        maxLength: events.length,
      }),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 20 }),
    )
    .chain(([copies, groupSizes]) => {
      const all = events.flatMap((event, i) => Array.from({ length: copies[i]! }, () => event));
      return fc
        .shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
        .map((shuffled) => {
          const groups: Delivery[][] = [];
          for (let at = 0, g = 0; at < shuffled.length; g++) {
            const size = groupSizes[g % groupSizes.length]!;
            groups.push(shuffled.slice(at, at + size));
            at += size;
          }
          return groups;
        });
    });
}

let parts: CardsParts;
let runs = 0;
beforeAll(async () => {
  parts = await freshCards(client(), "receiver_property");
});

interface Subjects {
  cardId: string;
  /** The card's holder. */
  holder: string;
  /** The person the electronic-password and registration events are about. */
  personId: string;
}

/** A fresh card (issued, as before any event about it) and person id for one delivery run. */
async function freshSubjects(s: Scenario): Promise<Subjects> {
  const run = ++runs;
  const personId = `p_${run}`;
  const holder = `holder_${run}`;
  await parts.registry.add(holder, new Date("2026-11-01T00:00:00Z"));
  const { cardId } = await parts.commands.issue(metaFor("issueCard"), issuePlan(holder));
  if (s.startsAs === "NORMAL")
    await parts.commands.run(
      cardId,
      { kind: "ENABLE_SOCIAL_FUNCTION" },
      metaFor("enableSocialSecurityFunction"),
    );
  if (s.startsAs === "CANCELLED")
    await parts.commands.run(cardId, { kind: "CANCEL", reason: "moved" }, metaFor("cancelCard"));
  // Stored before the mirror kept versions (field missing) or since (null): both never announced.
  if (run % 2 === 0)
    await parts.cards.cards.updateOne({ _id: cardId }, { $set: { bankAccountVersion: null } });
  return { cardId, holder, personId };
}

function received<T extends EventType>(
  type: T,
  payload: ReceivedEvent<T>["payload"],
  id: string,
): ReceivedEvent<T> {
  return {
    id,
    type,
    payload,
    actor: "t",
    channel: "BANK_COUNTER",
    occurredAt: "2026-11-30T00:00:00.000Z",
    source: "test",
  } as ReceivedEvent<T>;
}

/** Delivers one event to its handler as the relay does: a failure is retried. */
async function deliver(s: Scenario, subjects: Subjects, delivery: Delivery): Promise<void> {
  const { handlers } = parts;
  const { cardId, personId } = subjects;
  const apply = (): Promise<void> => {
    switch (delivery.type) {
      case "BankAccountStatusChanged":
        return handlers.BankAccountStatusChanged(
          received(
            delivery.type,
            {
              cardId,
              status: s.statuses[delivery.version - 1]!,
              fromStatus: s.statuses[delivery.version - 2] ?? null,
              accountVersion: delivery.version,
            },
            `${cardId}:v${delivery.version}`,
          ),
          new EffectScope(),
        );
      case "FinancialFunctionActivated":
        return handlers.FinancialFunctionActivated(
          received(
            delivery.type,
            { cardId, agent: null, accountVersion: 2, fromStatus: "NOT_ACTIVATED" },
            `${cardId}:activated`,
          ),
          new EffectScope(),
        );
      case "CardPasswordStateChanged": {
        const change = s.passwordChanges[delivery.index]!;
        return handlers.CardPasswordStateChanged(
          received(
            delivery.type,
            {
              cardId,
              personId: null,
              change,
              fromState: change === "LOCKED" ? "SET" : "LOCKED",
              state: change === "LOCKED" ? "LOCKED" : "INITIAL",
            },
            `${cardId}:password${delivery.index}`,
          ),
          new EffectScope(),
        );
      }
      case "ElectronicPasswordLocked":
        return handlers.ElectronicPasswordLocked(
          received(
            delivery.type,
            {
              personId,
              lockedUntil: new Date(LOCK_BASE + s.locks[delivery.lock]! * 3_600_000).toISOString(),
            },
            `${personId}:lock${delivery.lock}`,
          ),
          new EffectScope(),
        );
      case "PersonRegistered":
        return handlers.PersonRegistered(
          received(delivery.type, { personId }, `${personId}:registered`),
          new EffectScope(),
        );
    }
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await apply();
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

/** What a receiver's state shows of the card and the person (ids without the card's). */
async function observed(subjects: Subjects) {
  const { cardId } = subjects;
  const card = await parts.cards.cards.findOne({ _id: cardId });
  const person = await parts.registry.find(subjects.personId);
  const forwarded = await parts.outbox.events
    .find({ destination: "feed", type: "ForwardedToFeed", "payload.source.payload.cardId": cardId })
    .toArray();
  return {
    status: card?.status,
    socialFunction: card?.socialFunction.enabled,
    history: card?.history?.map((entry) => entry.type),
    bankAccountStatus: card?.bankAccountStatus,
    bankAccountVersion: card?.bankAccountVersion,
    registered: await parts.registry.has(subjects.personId),
    registeredAt: person?.at,
    lockedUntil: await parts.registry.electronicLockUntil(subjects.personId),
    forwarded: forwarded.map((doc) => forwardedView(doc, subjects)).sort(byId),
    /** Each received event the card recorded, by how often (once: a redelivery is a replay). */
    recorded: countBy((card?.keys ?? []).map((record) => record.id.replace(cardId, ""))),
  };
}

const byId = (a: { sourceId: string }, b: { sourceId: string }) =>
  a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0;

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * A passed-on event: its id checked against the source's, its card and holder (cards fills in
 * the holder, which the passwords events here do not name), then shown without them.
 */
function forwardedView(doc: OutboxDocument, { cardId, holder }: Subjects) {
  const payload = doc.payload as { sourceId: string; source: { type: string; payload: object } };
  expect(doc.eventId).toBe(derivedEventId(payload.sourceId, "ForwardedToFeed"));
  const {
    cardId: ofCard,
    personId,
    ...rest
  } = payload.source.payload as {
    cardId: string;
    personId: string;
  };
  expect({ ofCard, personId }).toEqual({ ofCard: cardId, personId: holder });
  return { sourceId: payload.sourceId.replace(cardId, ""), type: payload.source.type, rest };
}

describe("the cards receiver converges whatever the delivery", () => {
  it("R-PWD-4, R-BANK-2, R-BANK-3: any order, duplicates, delays and concurrent deliveries end in in-order delivery's state; each reported event is passed on to the feed once", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario.chain((s) => fc.tuple(fc.constant(s), deliveries(inOrder(s)))),
        async ([s, groups]) => {
          const expectedSubjects = await freshSubjects(s);
          for (const event of inOrder(s)) await deliver(s, expectedSubjects, event);
          const subjects = await freshSubjects(s);
          for (const group of groups)
            await Promise.all(group.map((event) => deliver(s, subjects, event)));
          const expected = await observed(expectedSubjects);
          expect(await observed(subjects)).toEqual(expected);
          // In-order delivery's state is the newest version's and the latest lock's.
          expect(expected).toMatchObject({
            status: s.startsAs === "ARCHIVED" && s.activated ? "NORMAL" : s.startsAs,
            bankAccountStatus: s.statuses.at(-1),
            bankAccountVersion: s.statuses.length,
            registered: true,
            lockedUntil: s.locks.length
              ? new Date(LOCK_BASE + Math.max(...s.locks) * 3_600_000)
              : null,
          });
          // Passed on: exactly the card's events the feed reports.
          expect(expected.forwarded.map((f) => f.sourceId)).toEqual(reportedByFeed(s));
          for (const sourceId of reportedByFeed(s))
            expect(expected.recorded[`event:${sourceId}`]).toBe(1);
        },
      ),
      { numRuns: 40 },
    );
    // Two cards issued and up to 40 deliveries per run: well past the default on a busy machine.
  }, 120_000);
});
