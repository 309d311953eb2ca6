import { describe, expect, it } from "vitest";
import {
  CARD_PASSWORD_MAX_FAILURES,
  cardAttemptsLeft,
  cardPasswordView,
  ELECTRONIC_LOCK_MS,
  ELECTRONIC_PASSWORD_LOCK_AT,
  electronicAttemptsLeft,
  electronicLockEnds,
  electronicPasswordView,
} from "./lock-rules.js";

describe("password state views", () => {
  it("R-PWD-2: a card without a stored password record has its initial password", () => {
    expect(cardPasswordView(null)).toEqual({ state: "INITIAL", failedAttempts: 0, lockedAt: null });
  });

  it("R-PWD-4: an electronic-card lock lifts by itself 24 hours after it began, derived on read", () => {
    const lockedAt = new Date("2026-11-25T08:00:00Z");
    const record = { hasPassword: true, failedAttempts: 7, lockedAt };
    const justBefore = new Date(lockedAt.getTime() + ELECTRONIC_LOCK_MS - 1);
    expect(electronicPasswordView(record, justBefore)).toEqual({
      state: "LOCKED",
      failedAttempts: 7,
      lockedUntil: new Date("2026-11-26T08:00:00Z"),
    });
    expect(
      electronicPasswordView(record, new Date(lockedAt.getTime() + ELECTRONIC_LOCK_MS)),
    ).toEqual({ state: "SET", failedAttempts: 0, lockedUntil: null });
  });

  it("R-PWD-4: a person without an electronic-card password is NOT_SET", () => {
    expect(electronicPasswordView(null, new Date()).state).toBe("NOT_SET");
  });
});

describe("attempts and lock views", () => {
  it("R-PWD-3: a stored card password shows its state and failures; only a locked one its lock time", () => {
    const lockedAt = new Date("2026-11-25T08:00:00Z");
    expect(cardPasswordView({ state: "LOCKED", failedAttempts: 6, lockedAt })).toEqual({
      state: "LOCKED",
      failedAttempts: 6,
      lockedAt,
    });
    expect(cardPasswordView({ state: "SET", failedAttempts: 2, lockedAt })).toEqual({
      state: "SET",
      failedAttempts: 2,
      lockedAt: null,
    });
  });

  it("R-PWD-3 / R-PWD-4: counts down the attempts left, never below zero", () => {
    expect(CARD_PASSWORD_MAX_FAILURES).toBe(6);
    expect(ELECTRONIC_PASSWORD_LOCK_AT).toBe(7);
    expect([0, 1, 5, 6, 7].map(cardAttemptsLeft)).toEqual([6, 5, 1, 0, 0]);
    expect([0, 1, 6, 7, 8].map(electronicAttemptsLeft)).toEqual([7, 6, 1, 0, 0]);
  });

  it("R-PWD-4: an electronic lock ends 24 hours after it began", () => {
    expect(electronicLockEnds(new Date("2026-11-25T08:00:00Z"))).toEqual(
      new Date("2026-11-26T08:00:00Z"),
    );
  });

  it("R-PWD-4: a set, unlocked electronic password shows its failures; one never set is NOT_SET", () => {
    const now = new Date("2026-11-25T08:00:00Z");
    expect(
      electronicPasswordView({ hasPassword: true, failedAttempts: 3, lockedAt: null }, now),
    ).toEqual({ state: "SET", failedAttempts: 3, lockedUntil: null });
    expect(
      electronicPasswordView({ hasPassword: false, failedAttempts: 3, lockedAt: now }, now),
    ).toEqual({ state: "NOT_SET", failedAttempts: 0, lockedUntil: null });
  });
});
