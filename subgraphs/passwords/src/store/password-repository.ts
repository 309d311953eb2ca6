import { randomUUID } from "node:crypto";
import { HubError, insertMissing, isDuplicateKeyError, KnownIds, type Caller } from "@hub/kit";
import type { ClientSession, Collection, Db } from "mongodb";
import type { PasswordState } from "../model/enums.js";
import {
  CARD_PASSWORD_MAX_FAILURES,
  ELECTRONIC_PASSWORD_LOCK_AT,
  type CardPasswordRecord,
  type ElectronicPasswordRecord,
} from "../rules/lock-rules.js";
import type { CardPasswordDocument, ElectronicPasswordDocument } from "./password-documents.js";

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

/** R-PWD-3: a locked card password is changed only by a reset. */
export function cardPasswordLocked(): HubError {
  return new HubError(
    "PASSWORD_LOCKED",
    "The password is locked; it can be reset in person at a service institution or on the official website (R-PWD-3).",
  );
}

/**
 * Hashes stay in this file: what leaves it is mapped explicitly. Failure counting is one atomic
 * update guarded by the current count, so concurrent wrong entries lock at exactly the limit.
 */
export class PasswordRepository {
  readonly cardPasswords: Collection<CardPasswordDocument>;
  readonly electronicPasswords: Collection<ElectronicPasswordDocument>;
  readonly events: Collection<PasswordEventDocument>;
  /** Cards and persons announced by their subgraphs' events: passwords exist only for these. */
  readonly knownCards: KnownIds;
  readonly knownPersons: KnownIds;

  constructor(readonly db: Db) {
    this.cardPasswords = db.collection<CardPasswordDocument>("card_passwords");
    this.electronicPasswords = db.collection<ElectronicPasswordDocument>(
      "electronic_card_passwords",
    );
    this.events = db.collection<PasswordEventDocument>("password_events");
    this.knownCards = new KnownIds(db, "known_cards");
    this.knownPersons = new KnownIds(db, "known_persons");
  }

  /** Every collection with its indexes, created at start-up (none implicitly in a transaction). */
  async ensureIndexes(): Promise<void> {
    await this.cardPasswords.createIndex({ _id: 1 });
    await this.electronicPasswords.createIndex({ _id: 1 });
    await this.events.createIndex({ subject: 1, at: 1 }, { name: "subject_history" });
    await this.knownCards.ensureCollection();
    await this.knownPersons.ensureCollection();
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

  /** One more wrong entry; null when the password is already locked (or at its limit). */
  async countCardFailure(cardId: string, now: Date): Promise<{ failedAttempts: number } | null> {
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
      {
        _id: cardId,
        state: { $ne: "LOCKED" },
        failedAttempts: { $lt: CARD_PASSWORD_MAX_FAILURES },
      },
      { $inc: { failedAttempts: 1 }, $set: { updatedAt: now } },
      { returnDocument: "after" },
    );
    return after ? { failedAttempts: after.failedAttempts } : null;
  }

  async lockCard(cardId: string, now: Date): Promise<void> {
    await this.cardPasswords.updateOne(
      { _id: cardId, state: { $ne: "LOCKED" } },
      { $set: { state: "LOCKED", lockedAt: now, updatedAt: now } },
    );
  }

  /** A correct entry resets the count, unless the password locked meanwhile (then false). */
  async clearCardFailures(cardId: string, now: Date): Promise<boolean> {
    const result = await this.cardPasswords.updateOne(
      {
        _id: cardId,
        state: { $ne: "LOCKED" },
        failedAttempts: { $lt: CARD_PASSWORD_MAX_FAILURES },
      },
      { $set: { failedAttempts: 0, updatedAt: now } },
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

  async countElectronicFailure(
    personId: string,
    now: Date,
  ): Promise<{ failedAttempts: number } | null> {
    const after = await this.electronicPasswords.findOneAndUpdate(
      { _id: personId, lockedAt: null, failedAttempts: { $lt: ELECTRONIC_PASSWORD_LOCK_AT } },
      { $inc: { failedAttempts: 1 }, $set: { updatedAt: now } },
      { returnDocument: "after" },
    );
    return after ? { failedAttempts: after.failedAttempts } : null;
  }

  /** True when this call set the lock (not a concurrent one). */
  async lockElectronic(personId: string, now: Date, session: ClientSession): Promise<boolean> {
    const locked = await this.electronicPasswords.updateOne(
      { _id: personId, lockedAt: null },
      { $set: { lockedAt: now, updatedAt: now } },
      { session },
    );
    return locked.modifiedCount > 0;
  }

  /** Lifts an expired lock (24 h passed, R-PWD-4) so counting starts afresh. */
  async liftElectronicLock(personId: string, lockedAt: Date, now: Date): Promise<void> {
    await this.electronicPasswords.updateOne(
      { _id: personId, lockedAt },
      { $set: { lockedAt: null, failedAttempts: 0, updatedAt: now } },
    );
  }

  async clearElectronicFailures(personId: string, now: Date): Promise<boolean> {
    const result = await this.electronicPasswords.updateOne(
      { _id: personId, lockedAt: null },
      { $set: { failedAttempts: 0, updatedAt: now } },
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
    await this.events.insertOne(
      {
        _id: randomUUID(),
        ...rest,
        channel: caller.channel,
        actor: caller.sub,
        agent: agent ?? null,
      },
      { session },
    );
  }

  async ping(): Promise<boolean> {
    await this.cardPasswords.countDocuments({}, { limit: 1 });
    return true;
  }
}
