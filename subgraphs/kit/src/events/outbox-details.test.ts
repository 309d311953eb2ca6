import type { ClientSession, Collection, Document } from "mongodb";
import { describe, expect, it } from "vitest";
import { runTransaction } from "../mongo/transactions.js";
import { outboxDocument, registered } from "../testing/events.js";
import { useRecordedMongo } from "../testing/recorded-mongo.js";
import { POLL } from "./command-tags.js";
import { DeadLetters, type DeadLetter } from "./dead-letters.js";
import { LaneLeases, type LaneDocument, type Lease } from "./lane-lease.js";
import type { OutboxDocument } from "./outbox-document.js";
import { Outbox } from "./outbox.js";

/**
 * Details of the outbox, dead letters and lane leases that relay-logic.test.ts leaves open
 * (mutation testing, docs/mutation-testing.md): writes that must belong to the caller's
 * transaction, a release of what is already stored, the sweep's command tag, which event a bury
 * removes, the order of the dead letters, and lease timing on clocks that do not start at zero.
 */
const { commands, freshDb } = useRecordedMongo();

/** Makes `work`'s transaction abort after it has run, as a later failing write would. */
class Abort extends Error {}
async function aborted(outbox: Outbox, work: (session: ClientSession) => Promise<unknown>) {
  await expect(
    runTransaction(outbox.events.db, async (session) => {
      await work(session);
      throw new Abort("a later write of the transaction failed");
    }),
  ).rejects.toThrow(Abort);
}

function listening(outbox: Outbox) {
  const calls: string[][] = [];
  outbox.onCommitted((docs) => {
    calls.push(docs.map((doc) => doc._id).sort());
    return [];
  });
  return calls;
}

describe("the outbox inside its caller's transaction", () => {
  it("an event added in a transaction that aborts is not stored, and the relay is not told", async () => {
    const outbox = new Outbox(freshDb("add_aborted"), "persons");
    const calls = listening(outbox);
    await aborted(outbox, (session) => outbox.add(session, registered(1), null));
    expect(await outbox.events.countDocuments()).toBe(0);
    expect(calls).toEqual([]);
  });

  it("carried events released in a transaction that aborts are not stored", async () => {
    const outbox = new Outbox(freshDb("carried_aborted"), "persons");
    const calls = listening(outbox);
    const carried = outbox.prepare(registered(1));
    await aborted(outbox, (session) => outbox.releaseCarriedIn(session, carried, null));
    expect(await outbox.events.countDocuments()).toBe(0);
    expect(calls).toEqual([]);
  });

  it("a transaction that releases the same carried events twice (two writes of the document) stores them once and commits", async () => {
    const outbox = new Outbox(freshDb("carried_twice"), "persons");
    const calls = listening(outbox);
    const carried = outbox.prepare(registered(1));
    // The second release sees the first one's inserts only inside the transaction.
    await runTransaction(outbox.events.db, async (session) => {
      await outbox.releaseCarriedIn(session, carried, null);
      await outbox.releaseCarriedIn(session, carried, null);
    });
    expect((await outbox.events.find().toArray()).map((doc) => doc._id).sort()).toEqual(
      carried.map((doc) => doc._id).sort(),
    );
    expect(calls).toHaveLength(2);
  });

  it("releasing carried events that are all stored already inserts nothing and still tells the relay", async () => {
    const outbox = new Outbox(freshDb("carried_stored"), "persons");
    const calls = listening(outbox);
    const carried = outbox.prepare(registered(1));
    await outbox.events.insertMany(carried);
    await runTransaction(outbox.events.db, (session) =>
      outbox.releaseCarriedIn(session, carried, null),
    );
    expect(await outbox.events.countDocuments()).toBe(2);
    expect(calls).toEqual([carried.map((doc) => doc._id).sort()]);
  });

  it("the sweep's look for stranded events is tagged as the poll's", async () => {
    const db = freshDb("stranded_tag");
    const outbox = new Outbox(db, "persons");
    const persons = db.collection<{ _id: string; version: number }>("persons");
    outbox.carriedIn(persons as unknown as Collection<Document>);
    await persons.insertOne({ _id: "p1", version: 1 });
    const from = commands.length;
    expect(await outbox.releaseStranded(1_000)).toBe(0);
    const looks = commands
      .slice(from)
      .filter(
        (c) => c.db === db.databaseName && c.name === "find" && c.command["find"] === "persons",
      );
    expect(looks.map((c) => c.command["comment"])).toEqual([POLL]);
  });
});

describe("dead letters", () => {
  it("a bury removes its own event from the outbox and no other", async () => {
    const db = freshDb("bury_one");
    const outbox = db.collection<OutboxDocument>("outbox");
    const dead = new DeadLetters(db, outbox);
    await outbox.insertMany([outboxDocument("e1"), outboxDocument("e2"), outboxDocument("e3")]);
    await dead.bury(outboxDocument("e2"), "cannot apply");
    expect((await outbox.find().toArray()).map((doc) => doc._id).sort()).toEqual([
      "e1:cards",
      "e3:cards",
    ]);
    expect((await dead.list()).map((letter) => letter._id)).toEqual(["e2:cards"]);
  });

  it("lists the letters in the order they died, whatever order they were stored in", async () => {
    const db = freshDb("letters_order");
    const dead = new DeadLetters(db, db.collection<OutboxDocument>("outbox"));
    const letter = (eventId: string, deadAt: string): DeadLetter => ({
      ...outboxDocument(eventId),
      deadAt: new Date(deadAt),
    });
    // Stored newest first (a redelivered letter buried again, another replica's bury).
    await dead.collection.insertMany([
      letter("c", "2026-11-25T10:00:00Z"),
      letter("a", "2026-11-25T08:00:00Z"),
      letter("b", "2026-11-25T09:00:00Z"),
    ]);
    expect((await dead.list()).map((l) => l.eventId)).toEqual(["a", "b", "c"]);
    expect((await dead.list(2)).map((l) => l.eventId)).toEqual(["a", "b"]);
  });
});

describe("lane leases on clocks that do not start at zero", () => {
  const LEASE = 1_000;
  const isLease = (value: Lease | string): Lease => {
    if (typeof value === "string") throw new Error(`not a lease: ${value}`);
    return value;
  };
  function lanes(name: string) {
    const collection = freshDb(name).collection<LaneDocument>("outbox_lanes");
    const clocks = { a: 50_000, b: 90_000, c: 7_000 };
    return {
      collection,
      clocks,
      a: new LaneLeases(collection, "A", LEASE, () => clocks.a),
      b: new LaneLeases(collection, "B", LEASE, () => clocks.b),
      c: new LaneLeases(collection, "C", LEASE, () => clocks.c),
      lane: async () => (await collection.findOne({ _id: "cards" }))!,
    };
  }

  it("a confirmation within a quarter lease of the last one writes nothing; one after it writes", async () => {
    const { a, clocks, lane } = lanes("confirm_offset");
    const lease = isLease(await a.claim("cards", false));
    expect(lease.confirmedAt).toBe(50_000);
    clocks.a = 50_000 + LEASE / 4 - 1;
    expect(await a.confirm(lease)).toBe(true);
    expect((await lane()).beat).toBe(0);
    clocks.a = 50_000 + LEASE / 4;
    expect(await a.confirm(lease)).toBe(true);
    expect((await lane()).beat).toBe(1);
    expect(lease.confirmedAt).toBe(50_000 + LEASE / 4);
  });

  it("a contender that saw a beat of one owner waits a whole lease again for a new owner's same beat", async () => {
    const { a, b, c, clocks, lane } = lanes("new_epoch_same_beat");
    const first = isLease(await a.claim("cards", false));
    // B sees epoch 1, beat 0 and starts timing it.
    expect(await b.claim("cards", false)).toBe("busy");
    // The owner releases; C takes the lane: epoch 2, beat 0 again.
    await a.release(first);
    isLease(await c.claim("cards", false));
    expect(await lane()).toMatchObject({ owner: "C", epoch: 2, beat: 0 });
    // A lease after B first looked: C has held the lane for no time at all on B's clock.
    clocks.b += LEASE;
    expect(await b.claim("cards", false)).toBe("busy");
    clocks.b += LEASE - 1;
    expect(await b.claim("cards", false)).toBe("busy");
    clocks.b += 1;
    expect(isLease(await b.claim("cards", false)).epoch).toBe(3);
  });
});
