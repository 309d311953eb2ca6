import { describe, expect, it } from "vitest";
import { BankAccountStatus } from "../model/enums.js";
import { accountStatusAfter } from "./account-rules.js";

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
