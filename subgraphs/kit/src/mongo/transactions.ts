import type { ClientSession, Db } from "mongodb";
import { isSharedEmbedded } from "./connect.js";
import { LockLostError } from "./transaction-lock.js";
import { declaresTransactions, needsSerialTransactions, takeTurn } from "./transaction-turns.js";

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
