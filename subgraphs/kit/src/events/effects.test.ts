import type { Db } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { useTestMongo } from "../testing/test-mongo.js";
import { beside, runTransaction } from "../mongo/transactions.js";
import { EffectScope, settleEffects } from "./effects.js";
import type { HubEvent } from "./hub-event.js";
import { Inbox } from "./inbox.js";
import { Outbox, type OutboxDocument } from "./outbox.js";

const client = useTestMongo();
const used: Db[] = [];
// On the embedded server a transaction's lock is released after it answered: let the last ones
// finish before the client closes (beside() waits its turn at the same gate).
afterAll(async () => {
  for (const db of used) await beside(db, async () => undefined);
});

/** An outbox whose commits are "delivered" at once, as a relay would report them. */
function trackedOutbox(name: string) {
  const db = client().db(`${name}_${Date.now()}`);
  used.push(db);
  const outbox = new Outbox(db, "source", ["target"]);
  const committed: { docs: OutboxDocument[]; tracked: boolean }[] = [];
  outbox.onCommitted((docs, tracked) => {
    committed.push({ docs, tracked });
    return docs.map((doc) => ({
      effect: { eventId: doc.eventId, type: doc.type, destination: doc.destination },
      delivered: Promise.resolve([]),
    }));
  });
  return { outbox, committed };
}

const received = (id: string, n: number): HubEvent => ({
  id,
  type: "Numbered",
  payload: { n },
  actor: "t",
  channel: "COUNTER",
  occurredAt: new Date().toISOString(),
  source: "sender",
});

describe("effect scopes, passed by hand from the request to its writes", () => {
  it("a committed write fills the scope it was given; with none, nothing waits for it", async () => {
    const { outbox, committed } = trackedOutbox("effects_given");
    const scope = new EffectScope();
    const event = (n: number) => ({
      type: "Numbered",
      payload: { n },
      actor: "t",
      channel: "COUNTER" as const,
      occurredAt: new Date(),
    });
    await runTransaction(outbox.events.db, (session) =>
      outbox.add(session, event(1), ["target"], scope),
    );
    await runTransaction(outbox.events.db, (session) =>
      outbox.add(session, event(2), ["target"], null),
    );
    expect(committed.map((c) => c.tracked)).toEqual([true, false]);
    expect(scope.deliveries.map((d) => d.effect.type)).toEqual(["Numbered"]);
    expect(scope.deliveries[0]!.effect.eventId).toBe(committed[0]!.docs[0]!.eventId);
    expect(await settleEffects(scope.deliveries, 1_000)).toEqual([]);
  });

  it("a scope is not filled before its transaction commits, nor by one that aborts", async () => {
    const { outbox } = trackedOutbox("effects_abort");
    const scope = new EffectScope();
    await expect(
      runTransaction(outbox.events.db, async (session) => {
        await outbox.add(
          session,
          { type: "Numbered", payload: {}, actor: "t", channel: "COUNTER", occurredAt: new Date() },
          ["target"],
          scope,
        );
        expect(scope.deliveries).toHaveLength(0);
        throw new Error("the rule refused it");
      }),
    ).rejects.toThrow("the rule refused it");
    expect(scope.deliveries).toHaveLength(0);
  });

  it("each received event of a batch gets its own scope, marked as writing work", async () => {
    const { outbox } = trackedOutbox("effects_inbox");
    const inbox = new Inbox({
      Numbered: async (event, effects) => {
        const n = Number(event.payload["n"]);
        for (let i = 0; i < n; i++)
          await runTransaction(outbox.events.db, (session) =>
            outbox.add(
              session,
              {
                type: `Caused${n}`,
                payload: {},
                actor: "t",
                channel: "COUNTER",
                occurredAt: new Date(),
              },
              ["target"],
              effects,
            ),
          );
      },
    });
    const { applied, effects } = await inbox.applyBatch([received("e1", 1), received("e2", 2)]);
    expect(applied).toBe(2);
    expect(effects.get("e1")!.wrote).toBe(true);
    expect(effects.get("e1")!.deliveries.map((d) => d.effect.type)).toEqual(["Caused1"]);
    expect(effects.get("e2")!.deliveries.map((d) => d.effect.type)).toEqual(["Caused2", "Caused2"]);
  });
});
