import { randomUUID } from "node:crypto";
import {
  beside,
  HubError,
  insertMissing,
  isDuplicateKeyError,
  setIfNewer,
  KnownIds,
  runTransaction,
  type Caller,
  type RetainedCollection,
} from "@hub/kit";
import type { ClientSession, Collection, Db } from "mongodb";
import type { PasswordState } from "../model/enums.js";
import {
  CARD_PASSWORD_MAX_FAILURES,
  ELECTRONIC_PASSWORD_LOCK_AT,
  type CardPasswordRecord,
  type ElectronicPasswordRecord,
} from "../rules/lock-rules.js";
import type {
  CardPasswordDocument,
  ElectronicPasswordDocument,
  KnownCardDocument,
} from "./password-documents.js";

/** An audit record of a password change, reset or lock: never the password or its hash. */
interface PasswordEventDocument {
  _id: string;
  subject: string;
  kind: "CARD" | "ELECTRONIC";
  type: "CHANGED" | "RESET" | "LOCKED" | "SET";
  channel: string;
  actor: string;
  agent: { idNumber: string; name: string; powerOfAttorneyRef: string } | null;
  at: Date;
}

export interface StoredCardPassword extends CardPasswordRecord {
  hash: string | null;
}

export interface StoredElectronicPassword extends ElectronicPasswordRecord {
  hash: string;
}

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

/** R-PWD-3: a locked card password is changed only by a reset. */
export function cardPasswordLocked(): HubError {
  return new HubError(
    "PASSWORD_LOCKED",
    "The password is locked; it can be reset in person at a service institution or on the official website (R-PWD-3).",
  );
}

/**
 * Hashes stay in this file: what leaves it is mapped explicitly. Failure counting is one atomic
 * update guarded by the current count, so concurrent wrong entries lock at exactly the limit; the
 * entry that reaches the limit also sets the lock in that same update (countCardFailure,
 * countElectronicFailure).
 */
export class PasswordRepository {
  readonly cardPasswords: Collection<CardPasswordDocument>;
  readonly electronicPasswords: Collection<ElectronicPasswordDocument>;
  readonly events: Collection<PasswordEventDocument>;
  /** Cards and persons announced by their subgraphs' events: passwords exist only for these. */
  readonly knownCards: KnownIds;
  readonly knownPersons: KnownIds;
  /** The same `known_cards` records, with the card status the cards subgraph announced. */
  readonly knownCardRecords: Collection<KnownCardDocument>;

  constructor(readonly db: Db) {
    this.cardPasswords = db.collection<CardPasswordDocument>("card_passwords");
    this.electronicPasswords = db.collection<ElectronicPasswordDocument>(
      "electronic_card_passwords",
    );
    this.events = db.collection<PasswordEventDocument>("password_events");
    this.knownCards = new KnownIds(db, "known_cards");
    this.knownCardRecords = db.collection<KnownCardDocument>("known_cards");
    this.knownPersons = new KnownIds(db, "known_persons");
  }

  /** Every collection with its indexes, created at start-up (none implicitly in a transaction). */
  /**
   * The audit trail as the retention sweep keeps it: `keepMs` after each event
   * (HUB_PASSWORD_AUDIT_RETENTION_DAYS), so `password_events` stops growing for ever.
   */
  auditTrail(keepMs: number): RetainedCollection {
    return { collection: this.events, field: "at", keepMs };
  }

  async ensureIndexes(): Promise<void> {
    await this.cardPasswords.createIndex({ _id: 1 });
    await this.electronicPasswords.createIndex({ _id: 1 });
    await this.events.createIndex({ subject: 1, at: 1 }, { name: "subject_history" });
    // The retention sweep deletes audit events past their period by `at` (auditTrail).
    await this.events.createIndex({ at: 1 }, { name: "audit_retention" });
    await this.knownCards.ensureCollection();
    await this.knownPersons.ensureCollection();
  }

  /**
   * Records a card's status as announced by the cards subgraph (CardIssued, CardStatusChanged).
   * Events may arrive twice or out of order, so the note is one conditional update guarded by the
   * card's version: it applies only when newer than what is stored, and a replay or an older
   * event changes nothing. It upserts, so a note arriving before CardIssued makes the card known.
   * True when this note was applied.
   */
  async noteCardStatus(cardId: string, status: string, cardVersion: number): Promise<boolean> {
    // Beside transactions, as KnownIds.add writes these records (transactions only read them).
    return beside(this.db, () =>
      setIfNewer(
        this.knownCardRecords,
        { _id: cardId },
        { $or: [{ cardVersion: { $lt: cardVersion } }, { cardVersion: { $exists: false } }] },
        { status, cardVersion },
      ),
    );
  }

  /** A known card's last announced status (null: none announced yet); null for an unknown card. */
  async knownCard(
    cardId: string,
    session?: ClientSession,
  ): Promise<{ status: string | null } | null> {
    const doc = await this.knownCardRecords.findOne(
      { _id: cardId },
      { projection: { status: 1 }, session },
    );
    return doc ? { status: doc.status ?? null } : null;
  }

  async cardPasswordsFor(
    cardIds: readonly string[],
  ): Promise<(CardPasswordRecord & { cardId: string })[]> {
    const docs = await this.cardPasswords
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

  async electronicPasswordsFor(
    personIds: readonly string[],
  ): Promise<(ElectronicPasswordRecord & { personId: string })[]> {
    const docs = await this.electronicPasswords
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

  async cardPassword(cardId: string): Promise<StoredCardPassword | null> {
    const d = await this.cardPasswords.findOne({ _id: cardId });
    return d
      ? { hash: d.hash, state: d.state, failedAttempts: d.failedAttempts, lockedAt: d.lockedAt }
      : null;
  }

  async electronicPassword(personId: string): Promise<StoredElectronicPassword | null> {
    const d = await this.electronicPasswords.findOne({ _id: personId });
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
   * One more wrong card-password entry (R-PWD-3), and the lock when it is the sixth: see
   * countWithLock. Null when there is nothing to count (no card password and none could be made).
   */
  async countCardFailure(
    cardId: string,
    now: Date,
    onLock: OnLock,
  ): Promise<CountedFailure | null> {
    const notLocked = { _id: cardId, state: { $ne: "LOCKED" as const } };
    return this.countWithLock({
      countBelowLast: () =>
        // Like every write here outside a transaction, beside the transactions that write the
        // same collections (password changes, resets, locks).
        beside(this.db, async () => {
          await insertMissing(this.cardPasswords, [
            {
              _id: cardId,
              hash: null,
              state: "INITIAL",
              failedAttempts: 0,
              lockedAt: null,
              updatedAt: now,
            },
          ]);
          const after = await this.cardPasswords.findOneAndUpdate(
            { ...notLocked, failedAttempts: { $lt: CARD_PASSWORD_MAX_FAILURES - 1 } },
            { $inc: { failedAttempts: 1 }, $set: { updatedAt: now } },
            { returnDocument: "after" },
          );
          return after?.failedAttempts ?? null;
        }),
      stored: async () => {
        const d = await this.cardPasswords.findOne({ _id: cardId });
        if (!d) return null;
        const locked = d.state === "LOCKED";
        return { failedAttempts: d.failedAttempts, locked, lockedAt: locked ? d.lockedAt : null };
      },
      lastFailure: CARD_PASSWORD_MAX_FAILURES,
      countLastAndLock: async (session) =>
        (
          await this.cardPasswords.updateOne(
            // `$gte`, not `$eq`: a count left at the limit without its lock by the earlier
            // two-write code (a process that died between them) locks now rather than never.
            { ...notLocked, failedAttempts: { $gte: CARD_PASSWORD_MAX_FAILURES - 1 } },
            {
              $set: {
                state: "LOCKED",
                failedAttempts: CARD_PASSWORD_MAX_FAILURES,
                lockedAt: now,
                updatedAt: now,
              },
            },
            { session },
          )
        ).modifiedCount > 0,
      now,
      onLock,
    });
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
  private async countWithLock(steps: {
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
  }): Promise<CountedFailure | null> {
    for (;;) {
      const counted = await steps.countBelowLast();
      if (counted !== null) return { failedAttempts: counted, locked: false, lockedAt: null };
      const seen = await steps.stored();
      if (!seen) return null;
      if (seen.locked) return seen;
      if (seen.failedAttempts < steps.lastFailure - 1) continue;
      const locked = await runTransaction(this.db, async (session) => {
        if (!(await steps.countLastAndLock(session))) return false;
        await steps.onLock(session);
        return true;
      });
      if (locked) return { failedAttempts: steps.lastFailure, locked, lockedAt: steps.now };
    }
  }

  /** A correct entry resets the count, unless the password locked meanwhile (then false). */
  async clearCardFailures(cardId: string, now: Date): Promise<boolean> {
    const result = await beside(this.db, () =>
      this.cardPasswords.updateOne(
        {
          _id: cardId,
          state: { $ne: "LOCKED" },
          failedAttempts: { $lt: CARD_PASSWORD_MAX_FAILURES },
        },
        { $set: { failedAttempts: 0, updatedAt: now } },
      ),
    );
    return result.matchedCount > 0 || !(await this.cardPasswords.findOne({ _id: cardId }));
  }

  /**
   * Sets the password. `unlocking` (an in-person or website reset, R-PWD-3) may lift a lock; any
   * other change may not: the lock is checked on the very document the write changes, so a lock
   * set by wrong entries after the current password was verified is never erased (PASSWORD_LOCKED).
   */
  async setCardPassword(
    session: ClientSession,
    cardId: string,
    hash: string | null,
    state: PasswordState,
    now: Date,
    unlocking = false,
  ): Promise<void> {
    try {
      await this.cardPasswords.updateOne(
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

  /**
   * One more wrong electronic-card entry (R-PWD-4), and the 24-hour lock when it is the seventh:
   * see countWithLock. Null when the person has no electronic-card password record.
   */
  async countElectronicFailure(
    personId: string,
    now: Date,
    onLock: OnLock,
  ): Promise<CountedFailure | null> {
    return this.countWithLock({
      countBelowLast: async () => {
        const after = await beside(this.db, () =>
          this.electronicPasswords.findOneAndUpdate(
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
        const d = await this.electronicPasswords.findOne({ _id: personId });
        return d
          ? { failedAttempts: d.failedAttempts, locked: d.lockedAt !== null, lockedAt: d.lockedAt }
          : null;
      },
      lastFailure: ELECTRONIC_PASSWORD_LOCK_AT,
      countLastAndLock: async (session) =>
        (
          await this.electronicPasswords.updateOne(
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
  async liftElectronicLock(personId: string, lockedAt: Date, now: Date): Promise<void> {
    await beside(this.db, () =>
      this.electronicPasswords.updateOne(
        { _id: personId, lockedAt },
        { $set: { lockedAt: null, failedAttempts: 0, updatedAt: now } },
      ),
    );
  }

  async clearElectronicFailures(personId: string, now: Date): Promise<boolean> {
    const result = await beside(this.db, () =>
      this.electronicPasswords.updateOne(
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
  async setElectronicPassword(
    session: ClientSession,
    personId: string,
    hash: string,
    now: Date,
    lockedError: () => HubError,
  ): Promise<void> {
    try {
      await this.electronicPasswords.updateOne(
        { _id: personId, lockedAt: null },
        { $set: { hash, failedAttempts: 0, lockedAt: null, updatedAt: now } },
        { upsert: true, session },
      );
    } catch (error) {
      if (isDuplicateKeyError(error)) throw lockedError();
      throw error;
    }
  }

  async record(
    event: Omit<PasswordEventDocument, "_id" | "channel" | "actor" | "agent"> & {
      caller: Caller;
      agent?: PasswordEventDocument["agent"];
    },
    session?: ClientSession,
  ): Promise<void> {
    const { caller, agent, ...rest } = event;
    const doc: PasswordEventDocument = {
      _id: randomUUID(),
      ...rest,
      channel: caller.channel,
      actor: caller.sub,
      agent: agent ?? null,
    };
    // Every flow records inside its transaction; a record made outside one (seeding, tests)
    // waits beside them.
    await (session
      ? this.events.insertOne(doc, { session })
      : beside(this.db, () => this.events.insertOne(doc)));
  }

  async ping(): Promise<boolean> {
    await this.cardPasswords.countDocuments({}, { limit: 1 });
    return true;
  }
}
