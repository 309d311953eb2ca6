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
}

/** A person's electronic-card password, one per person for every channel. */
export interface ElectronicPasswordDocument {
  _id: string; // person id
  hash: string;
  failedAttempts: number;
  lockedAt: Date | null;
  updatedAt: Date;
}
