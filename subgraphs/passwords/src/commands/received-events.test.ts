import fc from "fast-check";
import { EffectScope, Inbox, type HubEvent, type ReceivedEvent } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it, vi } from "vitest";
import { passwordEventHandlers } from "./received-events.js";
import { freshRepository, now } from "../testing/password-fixtures.js";

const client = useTestMongo();

const repositoryOn = async (name: string) => (await freshRepository(client(), name)).repository;

type CardEvent = ReceivedEvent<"CardIssued"> | ReceivedEvent<"CardStatusChanged">;

/** One card version as the cards subgraph announces it: CardIssued at version 1, then changes. */
function cardEvent(cardId: string, version: number, status: string): CardEvent {
  const state = {
    cardId,
    personId: "p_1",
    province: "44",
    issuingBank: "中国银行",
    status,
    expiresAt: "2036-03-01T00:00:00.000Z",
    cardVersion: version,
  };
  const common = {
    id: `${cardId}:v${version}`,
    actor: "counter-1",
    channel: "COUNTER" as const,
    occurredAt: now.toISOString(),
    source: "cards",
  };
  return version === 1
    ? { ...common, type: "CardIssued", payload: { ...state, replacesId: null } }
    : {
        ...common,
        type: "CardStatusChanged",
        payload: { ...state, change: "CHANGED", fromStatus: null },
      };
}

/**
 * Applies one event as the relay would: a handler that throws is delivered again. Only a
 * duplicate key of two upserts of one new record at once is expected (it is transient).
 */
async function deliver(
  handlers: ReturnType<typeof passwordEventHandlers>,
  event: CardEvent,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (event.type === "CardIssued") await handlers.CardIssued(event, new EffectScope());
      else await handlers.CardStatusChanged(event, new EffectScope());
      return;
    } catch (error) {
      if (attempt >= 5 || (error as { code?: unknown }).code !== 11000) throw error;
    }
  }
}

/** A card's statuses by version (gaps: changes not announced), cancelled at most at the end. */
const histories = fc
  .record({
    statuses: fc.array(fc.constantFrom("ARCHIVED", "NORMAL", "TEMPORARY_LOSS", "LOST"), {
      minLength: 1,
      maxLength: 7,
    }),
    cancelled: fc.boolean(),
    gaps: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  })
  .map(({ statuses, cancelled, gaps }) => {
    let version = 0;
    return [...statuses, ...(cancelled ? ["CANCELLED"] : [])].map((status, i) => {
      version += i > 0 && gaps[i] ? 2 : 1;
      return { version, status };
    });
  });

const scenarios = histories.chain((history) => {
  const n = history.length;
  return fc.record({
    history: fc.constant(history),
    copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
    // Sort keys of each copy: shrinking towards 0 shrinks towards in-order delivery.
    keys: fc.array(fc.nat({ max: 1000 }), { minLength: 3 * n, maxLength: 3 * n }),
    // Whether a delivery runs at once with the one before it (a redelivery racing the first).
    together: fc.array(fc.boolean(), { minLength: 3 * n, maxLength: 3 * n }),
  });
});

describe("the card status the passwords subgraph learns from card events (R-CARD-10)", () => {
  it("R-CARD-10: any order, duplication or concurrent delivery of one card's events records the newest version's status", async () => {
    const repository = await repositoryOn("pwd_card_events");
    const handlers = passwordEventHandlers(repository);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarios, async ({ history, copies, keys, together }) => {
        run += 1;
        const cardId = `c_${run}`;
        const deliveries = history
          .flatMap((v, i) =>
            Array.from({ length: copies[i]! }, (_, c) => ({ v, key: keys[3 * i + c]! })),
          )
          .sort((a, b) => a.key - b.key);
        const groups: (typeof history)[] = [];
        deliveries.forEach(({ v }, j) => {
          if (j > 0 && together[j]) groups.at(-1)!.push(v);
          else groups.push([v]);
        });
        for (const group of groups)
          await Promise.all(
            group.map((v) => deliver(handlers, cardEvent(cardId, v.version, v.status))),
          );
        const newest = history.at(-1)!;
        expect(await repository.known.cardRecords.findOne({ _id: cardId })).toEqual({
          _id: cardId,
          at: now,
          status: newest.status,
          cardVersion: newest.version,
          personId: "p_1",
        });
        expect(await repository.known.card(cardId)).toEqual({
          status: newest.status,
          personId: "p_1",
        });
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it("R-CARD-10: a cancellation that overtook the card's issue and an older change is what stays recorded", async () => {
    const repository = await repositoryOn("pwd_card_overtaken");
    const inbox = new Inbox("passwords", passwordEventHandlers(repository));
    const applied = await inbox.applyBatch([
      cardEvent("c_1", 3, "CANCELLED") as HubEvent,
      cardEvent("c_1", 1, "ARCHIVED") as HubEvent,
      cardEvent("c_1", 2, "LOST") as HubEvent,
    ]);
    expect(applied).toMatchObject({ applied: 3, failed: null });
    expect(await repository.known.cards.has("c_1")).toBe(true);
    expect(await repository.known.card("c_1")).toEqual({ status: "CANCELLED", personId: "p_1" });
  });

  it("R-CARD-10: a note whose upsert met another event's insert of an older version (duplicate key) is still recorded", async () => {
    // On a replica set two notes of a new card can both miss the record and both insert it: one
    // insert fails with a duplicate key although the record it met is older. The embedded server
    // runs one write at a time, so the race is staged: the first write finds version 1 inserted
    // under it and answers what the server answers then.
    const repository = await repositoryOn("pwd_card_race");
    const records = repository.known.cardRecords;
    vi.spyOn(records, "updateOne").mockImplementationOnce(async () => {
      await records.insertOne({ _id: "c_1", status: "ARCHIVED", cardVersion: 1 });
      throw Object.assign(new Error("E11000 duplicate key error"), { code: 11000 });
    });
    const handlers = passwordEventHandlers(repository);
    await handlers.CardStatusChanged(
      cardEvent("c_1", 2, "CANCELLED") as ReceivedEvent<"CardStatusChanged">,
      new EffectScope(),
    );
    expect(await repository.known.card("c_1")).toEqual({ status: "CANCELLED", personId: "p_1" });
  });

  it("R-CARD-10: PersonRegistered makes the person known", async () => {
    const repository = await repositoryOn("pwd_person");
    const inbox = new Inbox("passwords", passwordEventHandlers(repository));
    const person: HubEvent = {
      id: "e_p",
      type: "PersonRegistered",
      payload: { personId: "p_9" },
      actor: "counter-1",
      channel: "COUNTER",
      occurredAt: now.toISOString(),
      source: "persons",
    };
    expect(await inbox.applyBatch([person, person])).toMatchObject({ applied: 2, failed: null });
    expect(await repository.known.persons.has("p_9")).toBe(true);
  });
});
