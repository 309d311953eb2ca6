import type { ClientSession, Db, MongoClient } from "mongodb";
import { isEmbeddedServer } from "./connect.js";

/**
 * Runs `work` in a multi-document transaction (retried by the driver on transient errors).
 *
 * The embedded server (jongodb) has no write-conflict detection: two concurrent transactions on
 * one document both commit and the later one silently overwrites the earlier (measured; see
 * README "Embedded database"). Against it, transactions on one database run one at a time in
 * this process. A real MongoDB replica set detects the conflict itself (WriteConflict → retry), so
 * there transactions run concurrently and nothing is serialised.
 */
export async function runTransaction<T>(
  db: Db,
  work: (session: ClientSession) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTransactionOnce(db, work);
    } catch (error) {
      // Two processes (replicas) writing one document at once: the later commit loses. The driver
      // retries what the server labels transient; the embedded server reports the conflict
      // without the label, so it is retried here too, afresh (reading again what the winner wrote).
      if (attempt >= CONFLICT_ATTEMPTS || !isWriteConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

const CONFLICT_ATTEMPTS = 5;

function isWriteConflict(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 112 || /write conflict/i.test(String(message ?? ""));
}

async function runTransactionOnce<T>(
  db: Db,
  work: (session: ClientSession) => Promise<T>,
): Promise<T> {
  const serial = await needsSerialTransactions(db.client);
  const gate = serial ? gateFor(db) : null;
  const releaseGate = gate ? await gate.acquire() : () => undefined;
  // Other processes (replicas) on the same embedded server wait at the lock document too.
  const releaseLock = serial ? await acquireLock(db) : async () => undefined;
  const release = () => {
    void releaseLock().finally(releaseGate);
  };
  const session = db.client.startSession();
  try {
    let result: { value: T } | null = null;
    await session.withTransaction(async () => {
      // A retried attempt starts afresh: hooks of an aborted attempt must not run.
      commitHooks.set(session, []);
      result = { value: await work(session) };
    }, TRANSACTION_OPTIONS);
    if (!result) throw new Error("transaction ended without a result");
    for (const hook of commitHooks.get(session) ?? []) hook();
    return (result as { value: T }).value;
  } finally {
    commitHooks.delete(session);
    await session.endSession();
    release();
  }
}

/**
 * Runs a single-document write that must not land inside a transaction's window on the embedded
 * server (which would not notice the document changed under the transaction and overwrite it):
 * it waits its turn at the same gate, held only for the write. On a replica set it runs at once.
 */
export async function beside<T>(db: Db, write: () => Promise<T>): Promise<T> {
  if (!(await needsSerialTransactions(db.client))) return write();
  const release = await gateFor(db).acquire();
  try {
    return await write();
  } finally {
    release();
  }
}

/**
 * Snapshot reads and majority writes: what a transaction read is one consistent state, and what it
 * wrote survives a failover once it answers (a relay never delivers a rolled-back event).
 */
const TRANSACTION_OPTIONS = {
  readConcern: { level: "snapshot" },
  writeConcern: { w: "majority" },
  readPreference: "primary",
} as const;

const commitHooks = new WeakMap<ClientSession, (() => void)[]>();

/**
 * Runs `hook` once the transaction of `session` has committed (never for an aborted attempt).
 * The outbox uses it to wake its relay and to tell the request which events it must wait for.
 */
export function onCommit(session: ClientSession, hook: () => void): void {
  const hooks = commitHooks.get(session);
  if (!hooks) throw new Error("onCommit needs a session opened by runTransaction");
  hooks.push(hook);
}

const detection = new WeakMap<MongoClient, Promise<boolean>>();

/** True for the embedded jongodb server (no write-conflict detection): asked once per client. */
export function needsSerialTransactions(client: MongoClient): Promise<boolean> {
  let known = detection.get(client);
  if (!known) {
    known = isEmbeddedServer(client);
    detection.set(client, known);
  }
  return known;
}

/** Time spent waiting at the gates of this process (benchmarks read it through /dbstats). */
export const gateStats = { waits: 0, waitMs: 0 };

class Gate {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    const asked = performance.now();
    return previous.then(() => {
      gateStats.waits += 1;
      gateStats.waitMs += performance.now() - asked;
      return release;
    });
  }
}

const gates = new Map<string, Gate>();

function gateFor(db: Db): Gate {
  let gate = gates.get(db.databaseName);
  if (!gate) {
    gate = new Gate();
    gates.set(db.databaseName, gate);
  }
  return gate;
}

/** One per process: who holds an embedded database's transaction lock. */
const LOCK_HOLDER = `${process.pid}-${Math.random().toString(36).slice(2)}`;
/** A holder that died leaves the lock; it expires after this. */
const LOCK_LEASE_MS = 10_000;

interface LockDocument {
  _id: string;
  holder: string | null;
  until: Date;
}

/** The lock's collection, created at start-up with the other collections transactions write. */
export const TRANSACTION_LOCK_COLLECTION = "transaction_lock";

/**
 * The embedded server's transactions, one at a time across processes: several replicas of a
 * subgraph on one embedded server would otherwise commit concurrently, and the server can report
 * a write conflict after applying part of a transaction. (A replica set commits atomically and
 * needs none of this.)
 */
async function acquireLock(db: Db): Promise<() => Promise<void>> {
  const locks = db.collection<LockDocument>(TRANSACTION_LOCK_COLLECTION);
  for (let attempt = 0; ; attempt++) {
    const now = new Date();
    const taken = await locks.updateOne(
      { _id: "lock", $or: [{ holder: null }, { until: { $lt: now } }] },
      { $set: { holder: LOCK_HOLDER, until: new Date(now.getTime() + LOCK_LEASE_MS) } },
    );
    if (taken.matchedCount === 1)
      return async () => {
        await locks.updateOne({ _id: "lock", holder: LOCK_HOLDER }, { $set: { holder: null } });
      };
    if (attempt === 0)
      await locks
        .insertOne({ _id: "lock", holder: null, until: new Date(0) })
        .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 5));
  }
}
