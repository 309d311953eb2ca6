import { randomUUID } from "node:crypto";
import { insertMissing, KnownIds, type Caller } from "@hub/kit";
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

  async ensureIndexes(): Promise<void> {
    await this.cardPasswords.createIndex({ state: 1 }, { name: "state" });
    await this.events.createIndex({ subject: 1, at: 1 }, { name: "subject_history" });
  }

  async cardPasswordsFor(
    cardIds: readonly string[],
  ): Promise<(CardPasswordRecord & { cardId: string })[]> {
    const docs = await this.cardPasswords.find({ _id: { $in: [...cardIds] } }).toArray();
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
    const docs = await this.electronicPasswords.find({ _id: { $in: [...personIds] } }).toArray();
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

  async setCardPassword(
    session: ClientSession,
    cardId: string,
    hash: string | null,
    state: PasswordState,
    now: Date,
  ): Promise<void> {
    await this.cardPasswords.updateOne(
      { _id: cardId },
      { $set: { hash, state, failedAttempts: 0, lockedAt: null, updatedAt: now } },
      { upsert: true, session },
    );
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

  async lockElectronic(personId: string, now: Date): Promise<void> {
    await this.electronicPasswords.updateOne(
      { _id: personId, lockedAt: null },
      { $set: { lockedAt: now, updatedAt: now } },
    );
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

  async setElectronicPassword(
    session: ClientSession,
    personId: string,
    hash: string,
    now: Date,
  ): Promise<void> {
    await this.electronicPasswords.updateOne(
      { _id: personId },
      { $set: { hash, failedAttempts: 0, lockedAt: null, updatedAt: now } },
      { upsert: true, session },
    );
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
