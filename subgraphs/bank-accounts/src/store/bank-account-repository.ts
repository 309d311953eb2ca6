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

export class BankAccountRepository {
  readonly accounts: Collection<BankAccountDocument>;
  /** The accounts as the outbox sees them: documents that carry their events. */
  readonly accountsAsCarrier: Collection<Document>;

  constructor(readonly db: Db) {
    this.accounts = db.collection<BankAccountDocument>("bank_accounts");
    this.accountsAsCarrier = db.collection("bank_accounts");
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
