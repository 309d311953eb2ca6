import type { CarriedEvents, KeyRecord } from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";
import type { BankState } from "../rules/account-rules.js";

/**
 * The card as the bank last heard of it (CardIssued, CardStatusChanged): what R-BANK-1 decides
 * an activation on, and what the account's status follows (R-BANK-3). Events carry the card's
 * version; only a newer one replaces it.
 */
export interface CardMirror {
  status: string;
  expiresAt: Date;
  version: number;
  /** The card's holder (absent on mirrors stored before it was kept): the feed's events name it. */
  personId?: string;
}

/**
 * A bank account. A command or a received event changes it with one version-guarded update that
 * also carries the events it causes and its idempotency record (no transaction).
 *
 * `status` is derived (rules/account-rules.ts `accountStatusFor`) from the bank's own state and
 * the card's newest known state, and stored so that reads and the cards subgraph's mirror see it;
 * every write that changes either input writes it again.
 */
export interface BankAccountDocument extends CarriedEvents {
  _id: string;
  cardId: string;
  bank: string;
  accountNumber: string;
  status: BankAccountStatus;
  /** The bank's own decisions; absent on accounts stored before it was kept (`bankStateOf`). */
  bankState?: BankState;
  activatedAt: Date | null;
  /** Absent only for accounts stored before the mirror existed. */
  card?: CardMirror | null;
  version: number;
  updatedAt: Date;
  /** Idempotency records of the commands and received events that changed this account. */
  keys?: KeyRecord[];
}
