import type { Collection, Db } from "mongodb";

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
export class LockLease {
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
