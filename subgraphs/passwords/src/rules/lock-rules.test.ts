import { describe, expect, it } from "vitest";
import { cardPasswordView, ELECTRONIC_LOCK_MS, electronicPasswordView } from "./lock-rules.js";

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
