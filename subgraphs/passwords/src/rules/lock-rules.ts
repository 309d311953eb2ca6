import type { ElectronicCardPasswordState, PasswordState } from "../model/enums.js";

/** R-PWD-3: six consecutive wrong social security passwords lock the card's password. */
export const CARD_PASSWORD_MAX_FAILURES = 6;
/** R-PWD-4: "more than 6" wrong electronic-card passwords lock: the seventh locks. */
export const ELECTRONIC_PASSWORD_LOCK_AT = 7;
/** R-PWD-4: an electronic-card lock lifts by itself 24 hours after it began. */
export const ELECTRONIC_LOCK_MS = 24 * 60 * 60 * 1000;

export interface CardPasswordRecord {
  state: PasswordState;
  failedAttempts: number;
  lockedAt: Date | null;
}

/** No stored record means the card still has its initial password and no failures. */
export function cardPasswordView(record: CardPasswordRecord | null): CardPasswordRecord {
  if (!record) return { state: "INITIAL", failedAttempts: 0, lockedAt: null };
  return {
    state: record.state,
    failedAttempts: record.failedAttempts,
    lockedAt: record.state === "LOCKED" ? record.lockedAt : null,
  };
}

export interface ElectronicPasswordRecord {
  hasPassword: boolean;
  failedAttempts: number;
  lockedAt: Date | null;
}

export interface ElectronicPasswordView {
  state: ElectronicCardPasswordState;
  failedAttempts: number;
  lockedUntil: Date | null;
}

/** R-PWD-3: how many wrong entries a card password has left before it locks. */
export function cardAttemptsLeft(failedAttempts: number): number {
  return Math.max(0, CARD_PASSWORD_MAX_FAILURES - failedAttempts);
}

/** R-PWD-4: how many wrong entries an electronic-card password has left before it locks. */
export function electronicAttemptsLeft(failedAttempts: number): number {
  return Math.max(0, ELECTRONIC_PASSWORD_LOCK_AT - failedAttempts);
}

export function electronicLockEnds(lockedAt: Date): Date {
  return new Date(lockedAt.getTime() + ELECTRONIC_LOCK_MS);
}

/**
 * R-PWD-4: the lock is derived from the stored lock time when read — no job or TTL lifts it.
 * Once 24 hours have passed the password is usable again with a fresh count.
 */
export function electronicPasswordView(
  record: ElectronicPasswordRecord | null,
  now: Date,
): ElectronicPasswordView {
  if (!record?.hasPassword) return { state: "NOT_SET", failedAttempts: 0, lockedUntil: null };
  if (record.lockedAt) {
    const until = electronicLockEnds(record.lockedAt);
    if (now.getTime() < until.getTime())
      return { state: "LOCKED", failedAttempts: record.failedAttempts, lockedUntil: until };
    return { state: "SET", failedAttempts: 0, lockedUntil: null };
  }
  return { state: "SET", failedAttempts: record.failedAttempts, lockedUntil: null };
}
