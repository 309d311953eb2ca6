import type { ClientSession, Collection, Db, MongoClient } from "mongodb";
import { isEmbeddedServer, isSharedEmbedded } from "./connect.js";

/**
 * Runs `work` in a multi-document transaction (retried by the driver on transient errors).
 *
 * The embedded server (jongodb) has no write-conflict detection: two concurrent transactions on
 * one document both commit and the later one silently overwrites the earlier (measured; see
 * docs/embedded-database.md). Worse, a transaction's commit can write back the state of every
 * collection it wrote as it saw it, so a single-document write that another client made to
 * another document of such a collection while the transaction was open is silently lost
 * (`npm run chaos`, two processes per subgraph: 257 of 2,726 acknowledged updates lost; none where
 * the transactions wrote other collections; transactions that only read a collection lose
 * nothing). Against it, transactions on one database run one at a time in this process, and
 * single-document writes to the collections they write wait for their turn (`beside`); processes
 * that share the embedded database (HUB_EMBEDDED_SHARED) also take turns at a lock document. A
 * real MongoDB replica set detects conflicts itself (WriteConflict → retry), so there
 * transactions run concurrently and nothing is serialised.
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
      // So is an attempt whose turn lapsed before it could commit (LockLostError).
      const retryable = isWriteConflict(error) || error instanceof LockLostError;
      if (attempt >= CONFLICT_ATTEMPTS || !retryable) throw error;
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
  if (isSharedEmbedded(db.client) && !declaresTransactions(db))
    throw new Error(
      `runTransaction on ${db.databaseName}, which other processes share: call prepareTransactions(db) at start-up, so that every process's single-document writes wait for transactions there`,
    );
  const turn = await takeTurn(db);
  const session = db.client.startSession();
  try {
    let result: { value: T } | null = null;
    await session.withTransaction(async () => {
      // A retried attempt starts afresh: hooks of an aborted attempt must not run.
      commitHooks.set(session, []);
      result = { value: await work(session) };
      // Last, so the commit follows at once: a process that stalled past its lease must not
      // commit while another process may be inside its own transaction (this attempt aborts).
      await turn.confirm();
    }, TRANSACTION_OPTIONS);
    if (!result) throw new Error("transaction ended without a result");
    for (const hook of commitHooks.get(session) ?? []) hook();
    return (result as { value: T }).value;
  } finally {
    commitHooks.delete(session);
    try {
      await session.endSession();
    } finally {
      turn.end();
    }
  }
}

/**
 * Runs a single-document write that must not land inside a transaction's window on the embedded
 * server (the transaction's commit would write its collection back without it): it waits its turn
 * with this process's transactions, and with other processes' where they share the database and
 * run transactions on it (prepareTransactions), for the length of the write only. On a replica set
 * it runs at once. Every write outside a transaction to a collection some transaction writes goes
 * through it. Never call it inside a transaction or another `beside` on the same database: the
 * turn would wait for itself.
 */
export async function beside<T>(db: Db, write: () => Promise<T>): Promise<T> {
  if (!(await needsSerialTransactions(db.client))) return write();
  const turn = await takeTurn(db);
  try {
    return await write();
  } finally {
    turn.end();
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

/** By client: the databases this process runs transactions on (prepareTransactions). */
const transactional = new WeakMap<MongoClient, Set<string>>();

/**
 * Declares at start-up that this subgraph runs transactions on `db`, and creates the embedded
 * server's lock collection (no collection may be created inside a transaction). Where other
 * processes share the embedded database, single-document writes on `db` then take the lock
 * across processes too; databases nobody declares (no transactions there: persons, bank
 * accounts) do not pay for it. Every process of a subgraph runs the same start-up, so all of
 * them declare alike.
 */
export async function prepareTransactions(db: Db): Promise<void> {
  await db.collection(TRANSACTION_LOCK_COLLECTION).createIndex({ _id: 1 });
  let names = transactional.get(db.client);
  if (!names) {
    names = new Set();
    transactional.set(db.client, names);
  }
  names.add(db.databaseName);
}

function declaresTransactions(db: Db): boolean {
  return transactional.get(db.client)?.has(db.databaseName) ?? false;
}

/** A turn at a database's transactions and the single-document writes beside them. */
interface Turn {
  /** Before a commit: LockLostError unless the lock across processes is still this turn's. */
  confirm(): Promise<void>;
  /** Ends the turn: at once for the caller; the lock is passed on or given back meanwhile. */
  end(): void;
}

const NO_TURN: Turn = { confirm: async () => undefined, end: () => undefined };

/**
 * This process's turns on the database; on a replica set nobody takes turns. Where other
 * processes share the database and transactions run on it, a turn also holds the lock document.
 */
async function takeTurn(db: Db): Promise<Turn> {
  if (!(await needsSerialTransactions(db.client))) return NO_TURN;
  return turnsOf(db).take(db, isSharedEmbedded(db.client) && declaresTransactions(db));
}

/** Time spent waiting at the gates of this process (benchmarks read it through /dbstats). */
export const gateStats = { waits: 0, waitMs: 0 };

class Gate {
  private tail: Promise<void> = Promise.resolve();
  /** Turns asked for and not given yet. */
  waiting = 0;

  acquire(): Promise<() => void> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    const asked = performance.now();
    this.waiting += 1;
    return previous.then(() => {
      this.waiting -= 1;
      gateStats.waits += 1;
      gateStats.waitMs += performance.now() - asked;
      return release;
    });
  }
}

/**
 * One database's turns in this process: its gate first, so the process asks for the lock across
 * processes once at a time; then that lock, which a turn ending with another of this process's
 * turns waiting passes on to it unless another process has asked for it (LockLease.keep): one
 * round trip instead of a release and a take, and no process waits for more than one turn of
 * another.
 */
class Turns {
  private readonly gate = new Gate();
  private kept: LockLease | null = null;

  async take(db: Db, acrossProcesses: boolean): Promise<Turn> {
    const releaseGate = await this.gate.acquire();
    let lease = this.kept;
    this.kept = null;
    try {
      if (lease && (!acrossProcesses || lease.lapsed)) {
        await lease.release();
        lease = null;
      }
      if (!acrossProcesses) return { confirm: NO_TURN.confirm, end: releaseGate };
      lease ??= await LockLease.acquire(db);
    } catch (error) {
      releaseGate();
      throw error;
    }
    const held = lease;
    return {
      confirm: () => held.confirm(),
      end: () => {
        void this.pass(held)
          .catch(() => undefined)
          .finally(releaseGate);
      },
    };
  }

  private async pass(lease: LockLease): Promise<void> {
    try {
      if (this.gate.waiting > 0 && (await lease.keep())) {
        this.kept = lease;
        return;
      }
    } catch {
      // Not kept: given back below.
    }
    await lease.release();
  }
}

/** By client, then database: a client stands for a process (a test runs two in one). */
const turns = new WeakMap<MongoClient, Map<string, Turns>>();

function turnsOf(db: Db): Turns {
  let byName = turns.get(db.client);
  if (!byName) {
    byName = new Map();
    turns.set(db.client, byName);
  }
  let found = byName.get(db.databaseName);
  if (!found) {
    found = new Turns();
    byName.set(db.databaseName, found);
  }
  return found;
}

/** One per process: its turns at an embedded database's lock hold it as `${LOCK_HOLDER}:${n}`. */
const LOCK_HOLDER = `${process.pid}-${Math.random().toString(36).slice(2)}`;
let lockTurns = 0;
/**
 * How long the lock stays taken without news from its holder: a holder that died (SIGKILL) stalls
 * the other processes' transactions and writes this long. Short, since a live holder renews it
 * every LOCK_RENEW_MS while it holds it (a turn lasts milliseconds, rarely a second).
 */
export const LOCK_LEASE_MS = 3_000;
/** A third of the lease: two renewals may be late before it lapses. */
const LOCK_RENEW_MS = 1_000;

interface LockDocument {
  _id: string;
  holder: string | null;
  until: Date;
  /** The turn that has asked for the lock next: others leave it to it once it is free. */
  next?: string | null;
  /** Until when `next` holds (its asker renews it at each look; one that died lets go). */
  nextUntil?: Date;
}

/** How long an ask for the next turn holds without being repeated (askers repeat every few ms). */
const NEXT_TURN_MS = 100;

/** The lock's collection, created at start-up (prepareTransactions). */
export const TRANSACTION_LOCK_COLLECTION = "transaction_lock";

/** A transaction whose turn lapsed before its commit (its process stalled): tried again. */
export class LockLostError extends Error {
  constructor() {
    super("the embedded database's transaction lock lapsed before the commit");
  }
}

/**
 * The embedded database's lock across the processes that share it (HUB_EMBEDDED_SHARED): one
 * transaction or single-document write at a time per database, so that no write lands inside
 * another process's transaction (runTransaction says why), and no two transactions overlap (the
 * server can report a write conflict after applying part of one). A replica set needs none of
 * this.
 */
class LockLease {
  private lost = false;
  private readonly renewal: NodeJS.Timeout;

  private constructor(
    private readonly locks: Collection<LockDocument>,
    private readonly holder: string,
  ) {
    this.renewal = setInterval(() => void this.renew().catch(() => undefined), LOCK_RENEW_MS);
    this.renewal.unref();
  }

  /**
   * Takes the lock when it is free (or its lease lapsed), and not asked for by another turn;
   * otherwise asks for it next and looks again shortly. The ask makes turns fair: a process
   * whose own turns follow each other closely would otherwise take the lock again before a
   * process that looks every few milliseconds, and starve it.
   */
  static async acquire(db: Db): Promise<LockLease> {
    const locks = db.collection<LockDocument>(TRANSACTION_LOCK_COLLECTION);
    const holder = `${LOCK_HOLDER}:${++lockTurns}`;
    for (let attempt = 0; ; attempt++) {
      const now = new Date();
      const askable = [{ next: null }, { next: holder }, { nextUntil: { $lt: now } }];
      const taken = await locks.updateOne(
        {
          _id: "lock",
          $and: [{ $or: [{ holder: null }, { until: { $lt: now } }] }, { $or: askable }],
        },
        { $set: { holder, until: new Date(now.getTime() + LOCK_LEASE_MS), next: null } },
      );
      if (taken.matchedCount === 1) return new LockLease(locks, holder);
      if (attempt === 0)
        await locks
          .insertOne({ _id: "lock", holder: null, until: new Date(0), next: null })
          .catch(() => undefined);
      await locks.updateOne(
        { _id: "lock", $or: askable },
        { $set: { next: holder, nextUntil: new Date(now.getTime() + NEXT_TURN_MS) } },
      );
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 3));
    }
  }

  /** True once the lease lapsed and another holder took the lock. */
  get lapsed(): boolean {
    return this.lost;
  }

  /** Extends the lease; false once it lapsed and another holder took the lock. */
  private async renew(): Promise<boolean> {
    if (this.lost) return false;
    const renewed = await this.locks.updateOne(
      { _id: "lock", holder: this.holder },
      { $set: { until: new Date(Date.now() + LOCK_LEASE_MS) } },
    );
    if (renewed.matchedCount === 0) this.lost = true;
    return !this.lost;
  }

  /**
   * Renews the lease for another turn of this process unless another process has asked for the
   * lock (or it lapsed): false then, and the caller releases it.
   */
  async keep(): Promise<boolean> {
    if (this.lost) return false;
    const now = new Date();
    const kept = await this.locks.updateOne(
      { _id: "lock", holder: this.holder, $or: [{ next: null }, { nextUntil: { $lt: now } }] },
      { $set: { until: new Date(now.getTime() + LOCK_LEASE_MS) } },
    );
    return kept.matchedCount === 1;
  }

  /** Renews now: the lock is this turn's for a whole lease from here, or LockLostError. */
  async confirm(): Promise<void> {
    if (!(await this.renew())) throw new LockLostError();
  }

  async release(): Promise<void> {
    clearInterval(this.renewal);
    if (this.lost) return;
    await this.locks.updateOne({ _id: "lock", holder: this.holder }, { $set: { holder: null } });
  }
}
