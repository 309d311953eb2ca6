import { describe, expect, it } from "vitest";
import { BankAccountStatus } from "../model/enums.js";
import { accountStatusAfter, activate } from "./account-rules.js";

describe("R-BANK-3: the bank account follows the card's loss reports and cancellation", () => {
  it("a formal loss report puts an active account under loss report; withdrawing it restores it", () => {
    expect(accountStatusAfter("ACTIVE", "LOSS_REPORTED_FORMAL")).toBe("LOSS_REPORTED");
    expect(accountStatusAfter("LOSS_REPORTED", "LOSS_REPORT_WITHDRAWN")).toBe("ACTIVE");
    expect(accountStatusAfter("NOT_ACTIVATED", "LOSS_REPORTED_FORMAL")).toBe("NOT_ACTIVATED");
  });
  it("a cancelled or replaced card leaves every open account CANCELLATION_REQUIRED", () => {
    for (const status of Object.values(BankAccountStatus)) {
      for (const change of ["CANCELLED", "REPLACED"]) {
        expect(accountStatusAfter(status, change)).toBe(
          status === "CANCELLED" ? "CANCELLED" : "CANCELLATION_REQUIRED",
        );
      }
    }
  });
  it("a temporary loss report does not touch the account", () => {
    expect(accountStatusAfter("ACTIVE", "LOSS_REPORTED_TEMPORARY")).toBe("ACTIVE");
  });
});

describe("R-BANK-1/2/3: the financial function is activated only for a card in use", () => {
  const now = new Date("2026-12-01T09:00:00Z");
  const valid = new Date("2030-01-01T00:00:00Z");
  it("a card ARCHIVED or NORMAL within its validity: the account becomes ACTIVE", () => {
    expect(activate("NOT_ACTIVATED", { status: "ARCHIVED", expiresAt: valid }, now)).toBe("ACTIVE");
    expect(activate("NOT_ACTIVATED", { status: "NORMAL", expiresAt: valid }, now)).toBe("ACTIVE");
  });
  it("a card reported lost, cancelled (or replaced) or expired is refused, naming the card's state", () => {
    for (const status of ["TEMPORARY_LOSS", "LOST", "CANCELLED"])
      expect(() => activate("NOT_ACTIVATED", { status, expiresAt: valid }, now)).toThrow(
        expect.objectContaining({
          message: expect.stringContaining(`The card is ${status}`),
          extensions: expect.objectContaining({ code: "INVALID_TRANSITION", cardStatus: status }),
        }),
      );
    expect(() =>
      activate(
        "NOT_ACTIVATED",
        { status: "NORMAL", expiresAt: new Date("2026-11-30T00:00:00Z") },
        now,
      ),
    ).toThrow(/The card is EXPIRED/);
  });
  it("an account already activated or cancelled is refused", () => {
    expect(() => activate("ACTIVE", { status: "NORMAL", expiresAt: valid }, now)).toThrow(
      /bank account is ACTIVE/,
    );
  });
});
