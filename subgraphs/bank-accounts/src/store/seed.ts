import { insertMissing, type Db } from "@hub/kit";
import type { BankAccountDocument } from "./bank-account-document.js";
import { BankAccountRepository } from "./bank-account-repository.js";

export type { BankAccountDocument };

/** Writes demo bank accounts that are not stored yet (idempotent). */
export async function seedBankAccounts(db: Db, accounts: BankAccountDocument[]): Promise<number> {
  const repository = new BankAccountRepository(db);
  await repository.ensureIndexes();
  return insertMissing(repository.accounts, accounts);
}
