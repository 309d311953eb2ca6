import { runTransaction } from "@hub/kit";
import type { ClientSession, Db } from "mongodb";

/** A wrong entry counted: the count after it, and the lock it set or met. */
export interface CountedFailure {
  failedAttempts: number;
  locked: boolean;
  /** When the lock began (null when not locked). */
  lockedAt: Date | null;
}

/**
 * Writes what goes with a lock (its audit record, an event) in the transaction that sets it: run
 * once per lock, by the one entry whose update set it.
 */
export type OnLock = (session: ClientSession) => Promise<void>;

/** How one kind of password counts a wrong entry, as countWithLock runs the steps. */
export interface FailureCountSteps {
  /** The count after a conditional `$inc` below the last failure; null if it did not match. */
  countBelowLast: () => Promise<number | null>;
  /** The stored count and lock, null when there is no record. */
  stored: () => Promise<CountedFailure | null>;
  /** The count at which the password locks. */
  lastFailure: number;
  /** In the transaction: counts the last failure and locks; false if it did not match. */
  countLastAndLock: (session: ClientSession) => Promise<boolean>;
  now: Date;
  onLock: OnLock;
}

/**
 * Counts one wrong entry so that the lock exists the moment the limit is reached: an entry
 * arriving after the one that reached it meets the lock, and can say since (until) when, and the
 * password read in its answer shows it locked. Below the last allowed failure it is one
 * conditional `$inc`. The entry that reaches the limit counts and locks in one conditional
 * update, inside a transaction with `onLock` (the lock's audit record and event): the lock and
 * what goes with it commit together or not at all, where a lock written on its own and then the
 * record and event would lose them to a process dying between the writes. The update's filter
 * (not locked, at the last failure) lets one entry lock: a concurrent one finds it no longer
 * matching (a replica set reports the write conflict and runTransaction retries it; the embedded
 * server runs transactions one at a time), so `onLock` runs once per lock. An entry that finds
 * neither update matching reads the stored lock; if there is none, a correct entry or a new
 * password reset the count between its looks (another request's write: the loop always makes
 * progress), and it is counted again.
 */
export async function countWithLock(
  db: Db,
  steps: FailureCountSteps,
): Promise<CountedFailure | null> {
  for (;;) {
    const counted = await steps.countBelowLast();
    if (counted !== null) return { failedAttempts: counted, locked: false, lockedAt: null };
    const seen = await steps.stored();
    if (!seen) return null;
    if (seen.locked) return seen;
    if (seen.failedAttempts < steps.lastFailure - 1) continue;
    const locked = await runTransaction(db, async (session) => {
      if (!(await steps.countLastAndLock(session))) return false;
      await steps.onLock(session);
      return true;
    });
    if (locked) return { failedAttempts: steps.lastFailure, locked, lockedAt: steps.now };
  }
}
