import type { DocumentAddress } from "@hub/kit";
import type { Collection, Db, Document } from "mongodb";
import type { BankAccountStatus } from "../model/enums.js";
import type { BankAccountDocument } from "./bank-account-document.js";

export interface BankAccountRecord {
  id: string;
  cardId: string;
  bank: string;
  accountNumber: string;
  status: BankAccountStatus;
}

/** The fields `toBankAccountRecord` reads; reads leave out the account's records and events. */
const BANK_ACCOUNT_RECORD_FIELDS = { cardId: 1, bank: 1, accountNumber: 1, status: 1 } as const;

export function toBankAccountRecord(doc: BankAccountDocument): BankAccountRecord {
  return {
    id: doc._id,
    cardId: doc.cardId,
    bank: doc.bank,
    accountNumber: doc.accountNumber,
    status: doc.status,
  };
}

/**
 * How an account is addressed in writes: by its shard key, {cardId} (docs/scale.md), so a sharded
 * cluster sends each write to one shard. `cardId` is unique, so it names one account.
 */
export const accountAddress: DocumentAddress = (doc) => ({ cardId: doc["cardId"] as string });

export class BankAccountRepository {
  readonly accounts: Collection<BankAccountDocument>;
  /**
   * The accounts as the outbox sees them: documents that carry their events. The very same
   * collection object as `accounts`: the outbox finds a carrier's address (`carriedIn`) by the
   * object the writes go through, and a second `db.collection(...)` object would be addressed by
   * `_id` alone, not by the shard key.
   */
  readonly accountsAsCarrier: Collection<Document>;

  constructor(readonly db: Db) {
    this.accounts = db.collection<BankAccountDocument>("bank_accounts");
    this.accountsAsCarrier = this.accounts as unknown as Collection<Document>;
  }

  async ensureIndexes(): Promise<void> {
    await this.accounts.createIndex({ cardId: 1 }, { unique: true, name: "card_unique" });
  }

  async findByIds(ids: readonly string[]): Promise<BankAccountRecord[]> {
    return (
      await this.accounts
        .find({ _id: { $in: [...ids] } }, { projection: BANK_ACCOUNT_RECORD_FIELDS })
        .toArray()
    ).map(toBankAccountRecord);
  }

  async findByCardIds(cardIds: readonly string[]): Promise<BankAccountRecord[]> {
    const docs = await this.accounts
      .find({ cardId: { $in: [...cardIds] } }, { projection: BANK_ACCOUNT_RECORD_FIELDS })
      .toArray();
    return docs.map(toBankAccountRecord);
  }

  async ping(): Promise<boolean> {
    await this.accounts.countDocuments({}, { limit: 1 });
    return true;
  }
}
