import { beside, isDuplicateKeyError, type HubError } from "@hub/kit";
import type { ClientSession, Collection, Db } from "mongodb";
import { ELECTRONIC_PASSWORD_LOCK_AT, type ElectronicPasswordRecord } from "../rules/lock-rules.js";
import { countWithLock, type CountedFailure, type OnLock } from "./failure-count.js";
import type { ElectronicPasswordDocument } from "./password-documents.js";

export interface StoredElectronicPassword extends ElectronicPasswordRecord {
  hash: string;
}

/**
 * The persons' electronic-card passwords (`electronic_card_passwords`, one per person for every
 * channel, R-PWD-5). Hashes stay in this file: what leaves it is mapped explicitly. Writes outside
 * a transaction wait beside the transactions that write the same collection.
 */
export class ElectronicPasswordStore {
  readonly collection: Collection<ElectronicPasswordDocument>;

  constructor(private readonly db: Db) {
    this.collection = db.collection<ElectronicPasswordDocument>("electronic_card_passwords");
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ _id: 1 });
  }

  /** The passwords' states, for the persons' `electronicCardPassword` field (never the hash). */
  async statesFor(
    personIds: readonly string[],
  ): Promise<(ElectronicPasswordRecord & { personId: string })[]> {
    const docs = await this.collection
      .find(
        { _id: { $in: [...personIds] } },
        { projection: { hash: 1, failedAttempts: 1, lockedAt: 1 } },
      )
      .toArray();
    return docs.map((d) => ({
      personId: d._id,
      hasPassword: d.hash.length > 0,
      failedAttempts: d.failedAttempts,
      lockedAt: d.lockedAt,
    }));
  }

  async find(personId: string): Promise<StoredElectronicPassword | null> {
    const d = await this.collection.findOne({ _id: personId });
    return d
      ? {
          hash: d.hash,
          hasPassword: d.hash.length > 0,
          failedAttempts: d.failedAttempts,
          lockedAt: d.lockedAt,
        }
      : null;
  }

  /**
   * One more wrong electronic-card entry (R-PWD-4), and the 24-hour lock when it is the seventh:
   * see countWithLock. Null when the person has no electronic-card password record.
   */
  async countFailure(personId: string, now: Date, onLock: OnLock): Promise<CountedFailure | null> {
    return countWithLock(this.db, {
      countBelowLast: async () => {
        const after = await beside(this.db, () =>
          this.collection.findOneAndUpdate(
            {
              _id: personId,
              lockedAt: null,
              failedAttempts: { $lt: ELECTRONIC_PASSWORD_LOCK_AT - 1 },
            },
            { $inc: { failedAttempts: 1 }, $set: { updatedAt: now } },
            { returnDocument: "after" },
          ),
        );
        return after?.failedAttempts ?? null;
      },
      stored: async () => {
        const d = await this.collection.findOne({ _id: personId });
        return d
          ? { failedAttempts: d.failedAttempts, locked: d.lockedAt !== null, lockedAt: d.lockedAt }
          : null;
      },
      lastFailure: ELECTRONIC_PASSWORD_LOCK_AT,
      countLastAndLock: async (session) =>
        (
          await this.collection.updateOne(
            // `$gte` as for the card password: a count left at the limit unlocked locks now.
            {
              _id: personId,
              lockedAt: null,
              failedAttempts: { $gte: ELECTRONIC_PASSWORD_LOCK_AT - 1 },
            },
            {
              $set: { failedAttempts: ELECTRONIC_PASSWORD_LOCK_AT, lockedAt: now, updatedAt: now },
            },
            { session },
          )
        ).modifiedCount > 0,
      now,
      onLock,
    });
  }

  /** Lifts an expired lock (24 h passed, R-PWD-4) so counting starts afresh. */
  async liftLock(personId: string, lockedAt: Date, now: Date): Promise<void> {
    await beside(this.db, () =>
      this.collection.updateOne(
        { _id: personId, lockedAt },
        { $set: { lockedAt: null, failedAttempts: 0, updatedAt: now } },
      ),
    );
  }

  /** A correct entry resets the count, unless the password is locked (then false). */
  async clearFailures(personId: string, now: Date): Promise<boolean> {
    const result = await beside(this.db, () =>
      this.collection.updateOne(
        { _id: personId, lockedAt: null },
        { $set: { failedAttempts: 0, updatedAt: now } },
      ),
    );
    return result.matchedCount > 0;
  }

  /**
   * Sets the electronic-card password unless it is locked, checked on the document the write
   * changes: a lock set after the current password was verified is never erased.
   */
  async set(
    session: ClientSession,
    personId: string,
    hash: string,
    now: Date,
    lockedError: () => HubError,
  ): Promise<void> {
    try {
      await this.collection.updateOne(
        { _id: personId, lockedAt: null },
        { $set: { hash, failedAttempts: 0, lockedAt: null, updatedAt: now } },
        { upsert: true, session },
      );
    } catch (error) {
      if (isDuplicateKeyError(error)) throw lockedError();
      throw error;
    }
  }
}
