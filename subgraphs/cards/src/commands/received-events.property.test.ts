import { EffectScope, type EventType, type ReceivedEvent } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { MirroredBankAccountStatus } from "../model/enums.js";
import type { CardsParts } from "../subgraph.js";
import type { CardDocument } from "../store/card-document.js";
import { freshCards } from "../testing/card-fixtures.js";

const client = useTestMongo();

/**
 * The cards subgraph's receiver converges (docs/events.md): for any order, duplication,
 * delay and concurrency of delivery of one card's BankAccountStatusChanged events and one
 * person's ElectronicPasswordLocked and PersonRegistered events, the final state is in-order
 * delivery's. The handlers run for real against the database, built as the server builds them.
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
  | { type: "ElectronicPasswordLocked"; lock: number }
  | { type: "PersonRegistered" };

interface Scenario {
  /** The account's status at versions 1..n, in order (the producer's history). */
  statuses: MirroredBankAccountStatus[];
  /** Lock ends announced, in order, as hours after LOCK_BASE (a later lock may end earlier). */
  locks: number[];
  /** Where PersonRegistered falls among the person's events in the producers' order. */
  registeredAt: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  statuses: fc.array(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 5 }),
  locks: fc.array(fc.integer({ min: 0, max: 48 }), { maxLength: 4 }),
  registeredAt: fc.nat({ max: 4 }),
});

/** Each event as sent once, in the producers' order. */
function inOrder(s: Scenario): Delivery[] {
  const person: Delivery[] = s.locks.map((_, lock) => ({ type: "ElectronicPasswordLocked", lock }));
  person.splice(Math.min(s.registeredAt, person.length), 0, { type: "PersonRegistered" });
  return [
    ...s.statuses.map((_, i): Delivery => ({ type: "BankAccountStatusChanged", version: i + 1 })),
    ...person,
  ];
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

/** A fresh card (stored, as before any event about it) and person id for one delivery run. */
async function freshSubjects(): Promise<{ cardId: string; personId: string }> {
  const run = ++runs;
  const personId = `p_${run}`;
  const cardId = `c_${run}`;
  await parts.cards.cards.insertOne({
    _id: cardId,
    personId,
    status: "ARCHIVED",
    bankAccountStatus: null,
    version: 1,
    ...(run % 2 === 0 ? { bankAccountVersion: null } : {}),
  } as CardDocument);
  return { cardId, personId };
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
async function deliver(
  s: Scenario,
  subjects: { cardId: string; personId: string },
  delivery: Delivery,
): Promise<void> {
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
              accountVersion: delivery.version,
            },
            `${cardId}:v${delivery.version}`,
          ),
          new EffectScope(),
        );
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

/** What a receiver's state shows of the card and the person. */
async function observed(subjects: { cardId: string; personId: string }) {
  const card = await parts.cards.cards.findOne({ _id: subjects.cardId });
  const person = await parts.registry.find(subjects.personId);
  return {
    bankAccountStatus: card?.bankAccountStatus,
    bankAccountVersion: card?.bankAccountVersion,
    registered: await parts.registry.has(subjects.personId),
    registeredAt: person?.at,
    lockedUntil: await parts.registry.electronicLockUntil(subjects.personId),
  };
}

describe("the cards receiver converges whatever the delivery", () => {
  it("R-PWD-4, R-BANK-3: any order, duplicates, delays and concurrent deliveries end in in-order delivery's state", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario.chain((s) => fc.tuple(fc.constant(s), deliveries(inOrder(s)))),
        async ([s, groups]) => {
          const expectedSubjects = await freshSubjects();
          for (const event of inOrder(s)) await deliver(s, expectedSubjects, event);
          const subjects = await freshSubjects();
          for (const group of groups)
            await Promise.all(group.map((event) => deliver(s, subjects, event)));
          const expected = await observed(expectedSubjects);
          expect(await observed(subjects)).toEqual(expected);
          // In-order delivery's state is the newest version's and the latest lock's.
          expect(expected).toMatchObject({
            bankAccountStatus: s.statuses.at(-1),
            bankAccountVersion: s.statuses.length,
            registered: true,
            lockedUntil: s.locks.length
              ? new Date(LOCK_BASE + Math.max(...s.locks) * 3_600_000)
              : null,
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});
