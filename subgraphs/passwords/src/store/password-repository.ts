import type { Collection, Db } from "mongodb";
import type { CardPasswordRecord, ElectronicPasswordRecord } from "../rules/lock-rules.js";
import type { CardPasswordDocument, ElectronicPasswordDocument } from "./password-documents.js";

/** Hashes stay in this file: what leaves it is mapped explicitly, without them. */
export class PasswordRepository {
  readonly cardPasswords: Collection<CardPasswordDocument>;
  readonly electronicPasswords: Collection<ElectronicPasswordDocument>;

  constructor(db: Db) {
    this.cardPasswords = db.collection<CardPasswordDocument>("card_passwords");
    this.electronicPasswords = db.collection<ElectronicPasswordDocument>("electronic_card_passwords");
  }

  async ensureIndexes(): Promise<void> {
    // Both collections are keyed by _id (card id, person id); the state index serves operators'
    // queries for locked passwords.
    await this.cardPasswords.createIndex({ state: 1 }, { name: "state" });
  }

  async cardPasswordsFor(cardIds: readonly string[]): Promise<(CardPasswordRecord & { cardId: string })[]> {
    const docs = await this.cardPasswords.find({ _id: { $in: [...cardIds] } }).toArray();
    return docs.map((d) => ({ cardId: d._id, state: d.state, failedAttempts: d.failedAttempts, lockedAt: d.lockedAt }));
  }

  async electronicPasswordsFor(personIds: readonly string[]): Promise<(ElectronicPasswordRecord & { personId: string })[]> {
    const docs = await this.electronicPasswords.find({ _id: { $in: [...personIds] } }).toArray();
    return docs.map((d) => ({ personId: d._id, hasPassword: d.hash.length > 0, failedAttempts: d.failedAttempts, lockedAt: d.lockedAt }));
  }

  async ping(): Promise<boolean> {
    await this.cardPasswords.countDocuments({}, { limit: 1 });
    return true;
  }
}
