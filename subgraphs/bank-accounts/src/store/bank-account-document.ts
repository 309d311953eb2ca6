import type { CarriedEvents, KeyRecord } from "@hub/kit";
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

/**
 * A bank account. A command or a received event changes it with one version-guarded update that
 * also carries the events it causes and its idempotency record (no transaction).
 */
export interface BankAccountDocument extends CarriedEvents {
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
  /** Idempotency records of the commands and received events that changed this account. */
  keys?: KeyRecord[];
}
