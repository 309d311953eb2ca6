import type { Db, MongoClient } from "mongodb";
import { isEmbeddedServer, isSharedEmbedded } from "./connect.js";
import { LockLease, TRANSACTION_LOCK_COLLECTION } from "./transaction-lock.js";

/**
 * Turns at a database on the embedded server, which has no write-conflict detection (runTransaction
 * in transactions.ts says why): its transactions run one at a time in this process, with the
 * single-document writes beside them, and where processes share the database (HUB_EMBEDDED_SHARED)
 * a turn also holds the lock across processes (transaction-lock.ts). On a replica set nobody takes
 * turns.
 */

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

/** Whether this process declared at start-up that it runs transactions on `db`. */
export function declaresTransactions(db: Db): boolean {
  return transactional.get(db.client)?.has(db.databaseName) ?? false;
}

/** A turn at a database's transactions and the single-document writes beside them. */
export interface Turn {
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
export async function takeTurn(db: Db): Promise<Turn> {
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
