import type { BankAccountStatus } from "../model/enums.js";

/**
 * The card as the bank last heard of it (CardIssued, CardStatusChanged): what R-BANK-1 decides
 * an activation on. Events carry the card's version; only a newer one replaces it.
 */
export interface CardMirror {
  status: string;
  expiresAt: Date;
  version: number;
}

export interface BankAccountDocument {
  _id: string;
  cardId: string;
  bank: string;
  accountNumber: string;
  status: BankAccountStatus;
  activatedAt: Date | null;
  /** Absent only for accounts stored before the mirror existed. */
  card?: CardMirror | null;
  version: number;
  updatedAt: Date;
}
