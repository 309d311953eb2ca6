import type { Collection, Document } from "mongodb";
import { afterEach, describe, expect, it } from "vitest";
import { changeOneDocument } from "../mongo/change-document.js";
import { DatabaseClock } from "../mongo/database-clock.js";
import { eventKey, type KeyRecord } from "../mongo/document-keys.js";
import { runTransaction } from "../mongo/transactions.js";
import { registered } from "../testing/events.js";
import { useRecordedMongo } from "../testing/recorded-mongo.js";
import { injectFault, InjectedCrash } from "./fault-points.js";
import type { CarriedEvents } from "./outbox-document.js";
import { Outbox } from "./outbox.js";

/**
 * The order of one document's events across the replicas that write it, and which reads of a
 * carrying document may release its events (docs/events.md "Order of one document's events",
 * "Elections").
 */
const { commands, freshDb } = useRecordedMongo();

interface Thing extends CarriedEvents {
  _id: string;
  version: number;
  n: number;
  keys?: KeyRecord[];
}

/** A replica's clock that reads `aheadMs` later than this machine's (the server tells no time). */
const clockAhead = (aheadMs: number) =>
  new DatabaseClock(
    async () => undefined,
    () => Date.now() + aheadMs,
  );

/** Two replicas of one subgraph (two outboxes) on one database, both carrying in `things`. */
async function twoReplicas(name: string, a: Outbox["clock"], b: Outbox["clock"]) {
  const db = freshDb(name);
  const replicas = {
    a: new Outbox(db, "persons", { clock: a }),
    b: new Outbox(db, "persons", { clock: b }),
  };
  const things = db.collection<Thing>("things");
  for (const outbox of Object.values(replicas))
    outbox.carriedIn(things as unknown as Collection<Document>);
  await replicas.a.ensureIndexes();
  await things.insertOne({ _id: "t1", version: 1, n: 0 });
  const write = (outbox: Outbox, n: number, key: string | null = null) =>
    changeOneDocument<Thing, Record<string, never>>({
      collection: things,
      outbox,
      effects: null,
      filter: { _id: "t1" },
      key: key ? eventKey(key) : null,
      notFound: () => new Error("no thing"),
      decide: () => ({ result: {}, set: { n }, events: [registered(n)] }),
    });
  /** One lane as the relay's drain reads it: by enqueuedAt, then _id. */
  const lane = async () =>
    (
      await replicas.a.events
        .find({ destination: "cards" })
        .sort({ enqueuedAt: 1, _id: 1 })
        .toArray()
    ).map((doc) => doc.payload["personId"]);
  return { db, things, ...replicas, write, lane };
}

let unhook: () => void = () => undefined;
afterEach(() => unhook());

/** The next carrying write stops before its release, as a crash would: its events stay carried. */
function crashAfterCarryingWrite(): void {
  unhook = injectFault("after-carrying-write", () => {
    unhook();
    throw new InjectedCrash("after-carrying-write");
  });
}

describe("one document's events leave in the order of its writes, whichever replica made them", () => {
  it.each([
    ["whose clock reads 50 ms ahead", () => clockAhead(50)],
    ["that has just prepared a burst of 100 events", () => clockAhead(0)],
  ])(
    "a write by a replica %s, then a write of the same document by another: the first's event leaves first",
    async (_case, clockOfA) => {
      const { a, b, write, lane } = await twoReplicas("doc_order", clockOfA(), clockAhead(0));
      for (let n = 0; n < 100; n++) a.prepare(registered(1_000 + n));
      // A's write is committed, its event carried; B's write of the document carries both.
      crashAfterCarryingWrite();
      await expect(write(a, 1)).rejects.toThrow(InjectedCrash);
      await write(b, 2);
      expect(await lane()).toEqual(["p1", "p2"]);
    },
  );

  it("the same in transactions: each stamps after the document's last stamp and records its own", async () => {
    const { db, things, a, b, lane } = await twoReplicas(
      "doc_order_tx",
      clockAhead(50),
      clockAhead(0),
    );
    const inTransaction = (outbox: Outbox, n: number) =>
      runTransaction(db, async (session) => {
        await things.updateOne({ _id: "t1" }, { $set: { n } }, { session });
        await outbox.addAbout(
          session,
          { collection: things, filter: { _id: "t1" } },
          [registered(n)],
          null,
        );
      });
    await inTransaction(a, 1);
    await inTransaction(b, 2);
    expect(await lane()).toEqual(["p1", "p2"]);
    const [first, second] = await a.events
      .find({ destination: "cards" })
      .sort({ enqueuedAt: 1 })
      .toArray();
    expect((await things.findOne({ _id: "t1" }))?.enqueuedThrough).toEqual(second!.enqueuedAt);
    expect(second!.enqueuedAt.getTime()).toBeGreaterThan(first!.enqueuedAt.getTime());
  });

  it("events of one write are stamped one after another, and stamps do not run ahead of the clock from one write to the next", () => {
    const outbox = new Outbox(freshDb("stamps"), "persons", { clock: clockAhead(0) });
    const events = Array.from({ length: 50 }, (_, n) => registered(n));
    const docs = outbox.prepareAll(events).filter((doc) => doc.destination === "cards");
    for (let i = 1; i < docs.length; i++)
      expect(docs[i]!.enqueuedAt.getTime()).toBeGreaterThan(docs[i - 1]!.enqueuedAt.getTime());
    // A burst of single writes (no floor): each at the clock's time, none ahead of it.
    for (let n = 0; n < 200; n++) outbox.prepare(registered(n));
    expect(outbox.prepare(registered(0))[0]!.enqueuedAt.getTime()).toBeLessThanOrEqual(Date.now());
    // After a floor: one past it when the clock has not reached it.
    const floor = Date.now() + 60_000;
    expect(outbox.prepare(registered(0), floor)[0]!.enqueuedAt.getTime()).toBe(floor + 1);
  });
});

describe("only what a majority holds is released by a reader of a carrying document", () => {
  /** The finds `db` was sent on `collection` since `from`, with their read concern's level. */
  const findsOn = (db: string, collection: string, from: number) =>
    commands
      .slice(from)
      .filter((c) => c.db === db && c.name === "find" && c.command["find"] === collection)
      .map((c) => (c.command["readConcern"] as { level?: string } | undefined)?.level ?? "local");

  it("the sweep of stranded events reads the carriers with read concern majority", async () => {
    const { db, a, write } = await twoReplicas("stranded_majority", clockAhead(0), clockAhead(0));
    crashAfterCarryingWrite();
    await expect(write(a, 1)).rejects.toThrow(InjectedCrash);
    const from = commands.length;
    expect(await a.releaseStranded(0)).toBe(2);
    expect(findsOn(db.databaseName, "things", from)).toEqual(["majority"]);
  });

  it("a replay that finds its first call's events still carried releases them as a majority holds the document", async () => {
    const { db, a, b, write, lane } = await twoReplicas(
      "replay_majority",
      clockAhead(0),
      clockAhead(0),
    );
    crashAfterCarryingWrite();
    await expect(write(a, 1, "e-1")).rejects.toThrow(InjectedCrash);
    const from = commands.length;
    await write(b, 1, "e-1");
    // The request's own read (local), then the read of what is released (majority).
    expect(findsOn(db.databaseName, "things", from)).toEqual(["local", "majority"]);
    expect(await lane()).toEqual(["p1"]);
  });
});
