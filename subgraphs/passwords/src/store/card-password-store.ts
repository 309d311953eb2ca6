import { beside, HubError, insertMissing, isDuplicateKeyError } from "@hub/kit";
import type { ClientSession, Collection, Db } from "mongodb";
import type { PasswordState } from "../model/enums.js";
import { CARD_PASSWORD_MAX_FAILURES, type CardPasswordRecord } from "../rules/lock-rules.js";
import { countWithLock, type CountedFailure } from "./failure-count.js";
import type { CardPasswordDocument } from "./password-documents.js";

export interface StoredCardPassword extends CardPasswordRecord {
  hash: string | null;
}

/** R-PWD-3: a locked card password is changed only by a reset. */
export function cardPasswordLocked(): HubError {
  return new HubError(
    "PASSWORD_LOCKED",
    "The password is locked; it can be reset in person at a service institution or on the official website (R-PWD-3).",
  );
}

/**
 * The cards' social security passwords (`card_passwords`, one per card). Hashes stay in this
 * file: what leaves it is mapped explicitly. Like every write here outside a transaction, writes
 * wait beside the transactions that write the same collection (changes, resets, locks).
 */
export class CardPasswordStore {
  readonly collection: Collection<CardPasswordDocument>;

  constructor(private readonly db: Db) {
    this.collection = db.collection<CardPasswordDocument>("card_passwords");
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ _id: 1 });
  }

  /** The passwords' states, for the cards' `password` field (never the hash). */
  async statesFor(
    cardIds: readonly string[],
  ): Promise<(CardPasswordRecord & { cardId: string })[]> {
    const docs = await this.collection
      .find(
        { _id: { $in: [...cardIds] } },
        // Not the hash or the records and events a password document also holds.
        { projection: { state: 1, failedAttempts: 1, lockedAt: 1 } },
      )
      .toArray();
    return docs.map((d) => ({
      cardId: d._id,
      state: d.state,
      failedAttempts: d.failedAttempts,
      lockedAt: d.lockedAt,
    }));
  }

  async find(cardId: string, session?: ClientSession): Promise<StoredCardPassword | null> {
    const d = await this.collection.findOne({ _id: cardId }, { session });
    return d
      ? { hash: d.hash, state: d.state, failedAttempts: d.failedAttempts, lockedAt: d.lockedAt }
      : null;
  }

  /**
   * One more wrong card-password entry (R-PWD-3), and the lock when it is the sixth: see
   * countWithLock. `onLock` is told the state the lock changed, as the lock's own write read it
   * (in its transaction). Null when there is nothing to count (no card password and none could
   * be made).
   */
  async countFailure(
    cardId: string,
    now: Date,
    onLock: (session: ClientSession, lockedFrom: PasswordState) => Promise<void>,
  ): Promise<CountedFailure | null> {
    const notLocked = { _id: cardId, state: { $ne: "LOCKED" as const } };
    // Set by the write that locks, then read by `onLock` in the same transaction (both run again
    // together when the transaction is retried).
    let lockedFrom: PasswordState = "INITIAL";
    return countWithLock(this.db, {
      countBelowLast: () =>
        beside(this.db, async () => {
          await insertMissing(this.collection, [
            {
              _id: cardId,
              hash: null,
              state: "INITIAL",
              failedAttempts: 0,
              lockedAt: null,
              updatedAt: now,
            },
          ]);
          const after = await this.collection.findOneAndUpdate(
            { ...notLocked, failedAttempts: { $lt: CARD_PASSWORD_MAX_FAILURES - 1 } },
            { $inc: { failedAttempts: 1 }, $set: { updatedAt: now } },
            { returnDocument: "after" },
          );
          return after?.failedAttempts ?? null;
        }),
      stored: async () => {
        const d = await this.collection.findOne({ _id: cardId });
        if (!d) return null;
        const locked = d.state === "LOCKED";
        return { failedAttempts: d.failedAttempts, locked, lockedAt: locked ? d.lockedAt : null };
      },
      lastFailure: CARD_PASSWORD_MAX_FAILURES,
      countLastAndLock: async (session) => {
        const before = await this.collection.findOneAndUpdate(
          // `$gte`, not `$eq`: a count stored at the limit without its lock (counted and locked
          // in two writes by a process that died between them) locks now rather than never.
          { ...notLocked, failedAttempts: { $gte: CARD_PASSWORD_MAX_FAILURES - 1 } },
          {
            $set: {
              state: "LOCKED",
              failedAttempts: CARD_PASSWORD_MAX_FAILURES,
              lockedAt: now,
              updatedAt: now,
            },
          },
          // The document as the lock found it: the state it changed.
          { session, returnDocument: "before" },
        );
        if (!before) return false;
        lockedFrom = before.state;
        return true;
      },
      now,
      onLock: (session) => onLock(session, lockedFrom),
    });
  }

  /** A correct entry resets the count, unless the password locked meanwhile (then false). */
  async clearFailures(cardId: string, now: Date): Promise<boolean> {
    const result = await beside(this.db, () =>
      this.collection.updateOne(
        {
          _id: cardId,
          state: { $ne: "LOCKED" },
          failedAttempts: { $lt: CARD_PASSWORD_MAX_FAILURES },
        },
        { $set: { failedAttempts: 0, updatedAt: now } },
      ),
    );
    return result.matchedCount > 0 || !(await this.collection.findOne({ _id: cardId }));
  }

  /**
   * Sets the password. `unlocking` (an in-person or website reset, R-PWD-3) may lift a lock; any
   * other change may not: the lock is checked on the very document the write changes, so a lock
   * set by wrong entries after the current password was verified is never erased (PASSWORD_LOCKED).
   */
  async set(
    session: ClientSession,
    cardId: string,
    hash: string | null,
    state: PasswordState,
    now: Date,
    unlocking = false,
  ): Promise<void> {
    try {
      await this.collection.updateOne(
        unlocking ? { _id: cardId } : { _id: cardId, state: { $ne: "LOCKED" } },
        { $set: { hash, state, failedAttempts: 0, lockedAt: null, updatedAt: now } },
        { upsert: true, session },
      );
    } catch (error) {
      // The filter did not match an existing (locked) record, so the upsert met its _id.
      if (isDuplicateKeyError(error)) throw cardPasswordLocked();
      throw error;
    }
  }
}
