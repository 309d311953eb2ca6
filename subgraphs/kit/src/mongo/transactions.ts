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
  const gate = (await needsSerialTransactions(db.client)) ? gateFor(db) : null;
  const release = gate ? await gate.acquire() : () => undefined;
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
