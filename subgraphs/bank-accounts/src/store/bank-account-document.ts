import type { BankAccountStatus } from "../model/enums.js";

export interface BankAccountDocument {
  _id: string;
  cardId: string;
  bank: string;
  accountNumber: string;
  status: BankAccountStatus;
  activatedAt: Date | null;
  version: number;
  updatedAt: Date;
}
