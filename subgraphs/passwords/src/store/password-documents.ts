import type { PasswordState } from "../model/enums.js";

/** A card's social security password. Absent until it first differs from the initial password. */
export interface CardPasswordDocument {
  _id: string; // card id
  /** scrypt hash of the holder's password; null while INITIAL (the initial password is a setting). */
  hash: string | null;
  state: PasswordState;
  failedAttempts: number;
  lockedAt: Date | null;
  updatedAt: Date;
  /** The last `enqueuedAt` of the events about it (Outbox.addAbout): later ones follow it. */
  enqueuedThrough?: Date | null;
}

/** A person's electronic-card password, one per person for every channel. */
export interface ElectronicPasswordDocument {
  _id: string; // person id
  hash: string;
  failedAttempts: number;
  lockedAt: Date | null;
  updatedAt: Date;
  /** The last `enqueuedAt` of the events about it (Outbox.addAbout): later ones follow it. */
  enqueuedThrough?: Date | null;
}

/**
 * A card this subgraph may hold a password for (the `known_cards` record of KnownIds), with the
 * status the cards subgraph last announced and the card version that announcement carried.
 */
export interface KnownCardDocument {
  _id: string; // card id
  /** When the card was announced (absent when a status note arrived before CardIssued). */
  at?: Date;
  /** The card's status as of `cardVersion`; absent until a status is announced. */
  status?: string;
  /** The cards subgraph's version of the card for `status`: older notes never overwrite newer. */
  cardVersion?: number;
  /** The card's holder, from the cards subgraph's events (absent on records noted before it). */
  personId?: string;
}
