import type { ClientSession, Db, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSubgraphEnv } from "../settings/subgraph-env.js";
import { connectMongo, isSharedEmbedded } from "./connect.js";
import { startEmbeddedMongo, type EmbeddedMongo } from "./embedded-mongo.js";
import { TRANSACTION_LOCK_COLLECTION } from "./transaction-lock.js";
import { prepareTransactions } from "./transaction-turns.js";
import { beside, runTransaction } from "./transactions.js";

interface Item {
  _id: string;
  v: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let mongo: EmbeddedMongo | null = null;
const clients: MongoClient[] = [];
let uri = "";

beforeAll(async () => {
  uri = process.env["TEST_MONGODB_URI"] ?? (mongo = await startEmbeddedMongo()).uri;
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await mongo?.stop();
});

/** A "process": its own client on the shared database, which it runs transactions on. */
async function processOn(name: string): Promise<Db> {
  const client = await connectMongo(uri, { sharedEmbedded: true });
  clients.push(client);
  const db = client.db(name);
  await prepareTransactions(db);
  return db;
}

async function twoProcesses(): Promise<{ a: Db; b: Db }> {
  const name = `shared_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  return { a: await processOn(name), b: await processOn(name) };
}

// Two processes on one embedded database, as `npm run start:replicas` runs them: each is a client
// of its own here (a client has its own gates, as a process does), both declaring the database
// shared (HUB_EMBEDDED_SHARED). On a real replica set (TEST_MONGODB_URI) the same runs, without
// turns, and loses nothing either.
describe("several processes on one embedded database (HUB_EMBEDDED_SHARED)", () => {
  it("loses no acknowledged single-document write to another process's transactions on the same collection", async () => {
    const { a, b } = await twoProcesses();
    const items = (db: Db) => db.collection<Item>("items");
    const inTransactions = Array.from({ length: 5 }, (_, i) => `T${i}`);
    const besideThem = Array.from({ length: 20 }, (_, i) => `U${i}`);
    await items(a).insertMany([...inTransactions, ...besideThem].map((_id) => ({ _id, v: 0 })));

    // A couple of seconds, and enough of both to overlap often (the machine may be slow).
    const started = Date.now();
    let committed = 0;
    let total = 0;
    const going = () =>
      Date.now() - started < 2_000 ||
      (Date.now() - started < 15_000 && (committed < 30 || total < 60));
    // Process A: transactions that read and write documents of the collection, as a card
    // replacement does (cards, card numbers, outbox).
    const transactions = (async () => {
      for (let n = 0; going(); n++) {
        const id = inTransactions[n % inTransactions.length]!;
        await runTransaction(a, async (session: ClientSession) => {
          const doc = await items(a).findOne({ _id: id }, { session });
          await sleep(2);
          await items(a).updateOne({ _id: id }, { $set: { v: doc!.v + 1 } }, { session });
        });
        committed += 1;
      }
    })();
    // Process B: version-guarded single updates of other documents (as the kit's single-document
    // write path does), four at a time, each counted once acknowledged.
    const acknowledged = new Map<string, number>();
    const writer = async (first: number) => {
      for (let n = first; going(); n += 4) {
        const id = besideThem[n % besideThem.length]!;
        const doc = await items(b).findOne({ _id: id });
        const written = await beside(b, () =>
          items(b).updateOne({ _id: id, v: doc!.v }, { $set: { v: doc!.v + 1 } }),
        );
        if (written.modifiedCount !== 1) continue;
        acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
        total += 1;
      }
    };
    await Promise.all([transactions, ...[0, 1, 2, 3].map(writer)]);

    const stored = new Map((await items(b).find().toArray()).map((doc) => [doc._id, doc.v]));
    const lost = besideThem.map((id) => ({
      id,
      lost: (acknowledged.get(id) ?? 0) - (stored.get(id) ?? 0),
    }));
    expect(committed).toBeGreaterThanOrEqual(30);
    expect(total).toBeGreaterThanOrEqual(60);
    expect({ acknowledged: total, lost: lost.filter((item) => item.lost !== 0) }).toEqual({
      acknowledged: total,
      lost: [],
    });
    expect(inTransactions.reduce((sum, id) => sum + (stored.get(id) ?? 0), 0)).toBe(committed);
  });

  it.skipIf(process.env["TEST_MONGODB_URI"] !== undefined)(
    "a write of another process waits for a transaction that outlasts a renewal of the lock",
    async () => {
      const { a, b } = await twoProcesses();
      await a.collection<Item>("items").insertMany([
        { _id: "t", v: 0 },
        { _id: "u", v: 0 },
      ]);
      const lease = async () =>
        (await a.collection(TRANSACTION_LOCK_COLLECTION).findOne({ _id: "lock" as never }))?.[
          "until"
        ] as Date;
      let committedAt = 0;
      let leases: Date[] = [];
      let writtenAt = 0;
      let write: Promise<unknown> = Promise.resolve();
      await runTransaction(a, async (session) => {
        await a.collection<Item>("items").updateOne({ _id: "t" }, { $inc: { v: 1 } }, { session });
        leases = [await lease()];
        write = beside(b, () =>
          b.collection<Item>("items").updateOne({ _id: "u" }, { $set: { v: 1 } }),
        ).then(() => (writtenAt = performance.now()));
        // Past the first renewal (every second).
        await sleep(1_300);
        leases.push(await lease());
        committedAt = performance.now();
      });
      await write;
      expect(leases[1]!.getTime()).toBeGreaterThan(leases[0]!.getTime());
      expect(writtenAt).toBeGreaterThan(committedAt);
      expect(await b.collection<Item>("items").findOne({ _id: "u" })).toEqual({ _id: "u", v: 1 });
    },
  );

  it.skipIf(process.env["TEST_MONGODB_URI"] !== undefined)(
    "a transaction whose lock lapsed and was taken meanwhile does not commit, and runs again",
    async () => {
      const { a, b } = await twoProcesses();
      await a.collection<Item>("items").insertOne({ _id: "t", v: 0 });
      let attempts = 0;
      await runTransaction(a, async (session) => {
        attempts += 1;
        const doc = await a.collection<Item>("items").findOne({ _id: "t" }, { session });
        await a
          .collection<Item>("items")
          .updateOne({ _id: "t" }, { $set: { v: doc!.v + 1 } }, { session });
        // As if this process had stalled past its lease and another had taken the lock (and let
        // it lapse again, so the second attempt gets it).
        if (attempts === 1)
          await b
            .collection(TRANSACTION_LOCK_COLLECTION)
            .updateOne(
              { _id: "lock" as never },
              { $set: { holder: "another process", until: new Date(0) } },
            );
      });
      expect(attempts).toBe(2);
      expect(await b.collection<Item>("items").findOne({ _id: "t" })).toEqual({ _id: "t", v: 1 });
    },
  );

  it.skipIf(process.env["TEST_MONGODB_URI"] !== undefined)(
    "refuses a transaction on a shared database nobody declared, whose writes would not wait for it",
    async () => {
      const client = await connectMongo(uri, { sharedEmbedded: true });
      clients.push(client);
      await expect(runTransaction(client.db("shared_undeclared"), async () => 1)).rejects.toThrow(
        /prepareTransactions/,
      );
    },
  );
});

describe("HUB_EMBEDDED_SHARED", () => {
  const env = {
    MONGODB_URI: "mongodb://127.0.0.1:1/",
    HUB_JWT_SECRET: "a-secret-of-at-least-thirty-two-characters",
  };

  it("is off unless set on; anything else stops the start with its name", () => {
    expect(loadSubgraphEnv("CARDS_PORT", 4002, env).HUB_EMBEDDED_SHARED).toBe("off");
    expect(
      loadSubgraphEnv("CARDS_PORT", 4002, { ...env, HUB_EMBEDDED_SHARED: "on" })
        .HUB_EMBEDDED_SHARED,
    ).toBe("on");
    expect(() =>
      loadSubgraphEnv("CARDS_PORT", 4002, { ...env, HUB_EMBEDDED_SHARED: "yes" }),
    ).toThrow(/HUB_EMBEDDED_SHARED/);
  });

  it("is recorded for a client of the embedded server only: a replica set takes no turns", async () => {
    const shared = await connectMongo(uri, { sharedEmbedded: true });
    const production = await connectMongo(uri, { sharedEmbedded: true }, async () => false);
    const alone = await connectMongo(uri);
    clients.push(shared, production, alone);
    expect(isSharedEmbedded(shared)).toBe(process.env["TEST_MONGODB_URI"] === undefined);
    expect(isSharedEmbedded(production)).toBe(false);
    expect(isSharedEmbedded(alone)).toBe(false);
  });
});
