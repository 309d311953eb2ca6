import type { BankAccountsContext } from "../context.js";
import type { BankAccountRecord } from "../store/bank-account-repository.js";

export const bankAccountsReferences = {
  BankAccount: {
    __resolveReference: (
      reference: { id: string },
      ctx: BankAccountsContext,
    ): Promise<BankAccountRecord | null> => ctx.loaders.accountById.load(reference.id),
  },
  Card: { __resolveReference: (reference: { id: string }) => ({ id: reference.id }) },
};
