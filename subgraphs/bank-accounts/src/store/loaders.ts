import { keyedLoader } from "@hub/kit";
import type { BankAccountRepository } from "./bank-account-repository.js";

export function createBankAccountLoaders(repository: BankAccountRepository) {
  return {
    accountById: keyedLoader(
      (ids: readonly string[]) => repository.findByIds(ids),
      (a) => a.id,
    ),
    accountByCardId: keyedLoader(
      (ids: readonly string[]) => repository.findByCardIds(ids),
      (a) => a.cardId,
    ),
  };
}

export type BankAccountLoaders = ReturnType<typeof createBankAccountLoaders>;
