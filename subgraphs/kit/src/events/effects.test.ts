import type { Db } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { useTestMongo } from "../testing/test-mongo.js";
import { beside, runTransaction } from "../mongo/transactions.js";
import { EffectScope, settleEffects } from "./effects.js";
import { newEvent, receivedEvent, registered } from "../testing/events.js";
import { Inbox } from "./inbox.js";
import type { OutboxDocument } from "./outbox-document.js";
import { Outbox } from "./outbox.js";

const client = useTestMongo();
const used: Db[] = [];
// On the embedded server a transaction's lock is released after it answered: let the last ones
// finish before the client closes (beside() waits its turn at the same gate).
afterAll(async () => {
  for (const db of used) await beside(db, async () => undefined);
});

/** An outbox whose commits are "delivered" at once, as a relay would report them. */
function trackedOutbox(name: string, source: "persons" | "passwords" = "persons") {
  const db = client().db(`${name}_${Date.now()}`);
  used.push(db);
  const outbox = new Outbox(db, source);
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

describe("effect scopes, passed by hand from the request to its writes", () => {
  it("a committed write fills the scope it was given; with none, nothing waits for it", async () => {
    const { outbox, committed } = trackedOutbox("effects_given");
    const scope = new EffectScope();
    await runTransaction(outbox.events.db, (session) => outbox.add(session, registered(1), scope));
    await runTransaction(outbox.events.db, (session) => outbox.add(session, registered(2), null));
    expect(committed.map((c) => c.tracked)).toEqual([true, false]);
    // One delivery per receiver the catalogue names.
    expect(scope.deliveries.map((d) => [d.effect.type, d.effect.destination])).toEqual([
      ["PersonRegistered", "cards"],
      ["PersonRegistered", "passwords"],
    ]);
    expect(scope.deliveries[0]!.effect.eventId).toBe(committed[0]!.docs[0]!.eventId);
    expect(await settleEffects(scope.deliveries, 1_000)).toEqual([]);
  });

  it("a scope is not filled before its transaction commits, nor by one that aborts", async () => {
    const { outbox } = trackedOutbox("effects_abort");
    const scope = new EffectScope();
    await expect(
      runTransaction(outbox.events.db, async (session) => {
        await outbox.add(session, registered(1), scope);
        expect(scope.deliveries).toHaveLength(0);
        throw new Error("the rule refused it");
      }),
    ).rejects.toThrow("the rule refused it");
    expect(scope.deliveries).toHaveLength(0);
  });

  it("each received event of a batch gets its own scope, marked as writing work", async () => {
    const { outbox } = trackedOutbox("effects_inbox", "passwords");
    const noop = async () => undefined;
    const inbox = new Inbox("passwords", {
      CardIssued: noop,
      CardStatusChanged: noop,
      PersonRegistered: async (event, effects) => {
        const n = Number(event.payload.personId.slice(1));
        for (let i = 0; i < n; i++)
          await runTransaction(outbox.events.db, (session) =>
            outbox.add(
              session,
              newEvent("InitialPasswordChanged", { cardId: `c${n}.${i}` }),
              effects,
            ),
          );
      },
    });
    const { applied, effects } = await inbox.applyBatch([
      receivedEvent("e1", "PersonRegistered", { personId: "p1" }),
      receivedEvent("e2", "PersonRegistered", { personId: "p2" }),
    ]);
    expect(applied).toBe(2);
    expect(effects.get("e1")!.wrote).toBe(true);
    expect(effects.get("e1")!.deliveries).toHaveLength(1);
    expect(effects.get("e2")!.deliveries).toHaveLength(2);
  });
});
