import fc from "fast-check";
import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { BankAccountStatus } from "../model/enums.js";
import { cardHistory } from "../testing/card-history.js";
import {
  accountNumberFor,
  accountStatusFor,
  activate,
  bankStateOf,
  cancel,
  cardStatusOf,
  type BankState,
} from "./account-rules.js";

const BANK_STATES: BankState[] = ["NOT_ACTIVATED", "ACTIVE", "CANCELLED"];

describe("R-BANK-3: the bank account follows the card's loss reports and cancellation", () => {
  it("R-BANK-3: a formal loss report puts an active account under loss report; withdrawing it restores it", () => {
    expect(accountStatusFor("ACTIVE", "LOST")).toBe("LOSS_REPORTED");
    expect(accountStatusFor("ACTIVE", "NORMAL")).toBe("ACTIVE");
    expect(accountStatusFor("ACTIVE", "ARCHIVED")).toBe("ACTIVE");
    expect(accountStatusFor("NOT_ACTIVATED", "LOST")).toBe("NOT_ACTIVATED");
  });
  it("R-BANK-3: a cancelled or replaced card leaves every open account CANCELLATION_REQUIRED", () => {
    for (const bank of BANK_STATES)
      expect(accountStatusFor(bank, "CANCELLED")).toBe(
        bank === "CANCELLED" ? "CANCELLED" : "CANCELLATION_REQUIRED",
      );
  });
  it("R-BANK-3: a temporary loss report does not touch the account", () => {
    for (const bank of BANK_STATES) expect(accountStatusFor(bank, "TEMPORARY_LOSS")).toBe(bank);
  });
  it("R-BANK-3: an account the bank cancelled stays CANCELLED whatever the card does", () => {
    for (const card of ["ARCHIVED", "NORMAL", "TEMPORARY_LOSS", "LOST", "CANCELLED", null])
      expect(accountStatusFor("CANCELLED", card)).toBe("CANCELLED");
  });
  it("R-BANK-3: an account stored before the bank kept its own state derives the status it has", () => {
    for (const status of Object.values(BankAccountStatus))
      for (const activatedAt of [null, new Date("2026-01-01T00:00:00Z")]) {
        // LOSS_REPORTED and ACTIVE accounts were always activated.
        if (activatedAt === null && (status === "ACTIVE" || status === "LOSS_REPORTED")) continue;
        const stored = { status, activatedAt };
        expect(accountStatusFor(bankStateOf(stored), cardStatusOf(stored))).toBe(status);
      }
    expect(bankStateOf({ status: "CANCELLATION_REQUIRED", activatedAt: null })).toBe(
      "NOT_ACTIVATED",
    );
    expect(bankStateOf({ status: "ACTIVE", activatedAt: null, bankState: "CANCELLED" })).toBe(
      "CANCELLED",
    );
    expect(
      cardStatusOf({
        status: "CANCELLATION_REQUIRED",
        activatedAt: null,
        card: { status: "LOST" },
      }),
    ).toBe("LOST");
  });
});

/**
 * The rule the bank applied before (a delta per CardStatusChanged.change): the reference that
 * the derived status must reproduce when events arrive in order.
 */
function deltaRule(current: BankAccountStatus, change: string): BankAccountStatus {
  switch (change) {
    case "LOSS_REPORTED_FORMAL":
      return current === "ACTIVE" ? "LOSS_REPORTED" : current;
    case "LOSS_REPORT_WITHDRAWN":
      return current === "LOSS_REPORTED" ? "ACTIVE" : current;
    case "CANCELLED":
    case "REPLACED":
      return current === "CANCELLED" ? current : "CANCELLATION_REQUIRED";
    default:
      return current;
  }
}

describe("R-BANK-3: the derived status is the one the bank's earlier delta rule gave for in-order events", () => {
  it("R-BANK-3: for any card history and the bank's activation or cancellation at any point, both agree after every step", () => {
    const now = new Date("2026-12-01T09:00:00Z");
    const expiresAt = new Date("2036-01-01T00:00:00Z");
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.record({ p: fc.integer({ min: 0, max: 99 }), gap: fc.boolean() }), {
          maxLength: 8,
        }),
        fc.array(fc.record({ after: fc.nat(), action: fc.constantFrom("activate", "cancel") }), {
          maxLength: 3,
        }),
        (instant, picks, bankActions) => {
          const history = cardHistory(instant, picks);
          let old: BankAccountStatus = "NOT_ACTIVATED";
          let bank: BankState = "NOT_ACTIVATED";
          let card = history[0]!.status;
          const step = (i: number) => {
            for (const b of bankActions.filter((b) => b.after % history.length === i)) {
              const rule =
                b.action === "activate"
                  ? (current: BankAccountStatus) =>
                      activate(current, { status: card, expiresAt }, now)
                  : cancel;
              let refusedBefore = false;
              try {
                old = rule(old);
              } catch (error) {
                expect(error).toBeInstanceOf(HubError);
                refusedBefore = true;
              }
              // The bank decides on the status it shows: the same refusals as before.
              try {
                bank = rule(accountStatusFor(bank, card));
                expect(refusedBefore).toBe(false);
              } catch (error) {
                expect(error).toBeInstanceOf(HubError);
                expect(refusedBefore).toBe(true);
              }
              expect(accountStatusFor(bank, card)).toBe(old);
            }
          };
          expect(accountStatusFor(bank, card)).toBe(old);
          step(0);
          for (const [i, version] of history.entries()) {
            if (i === 0) continue;
            old = deltaRule(old, version.change!);
            card = version.status;
            expect(accountStatusFor(bank, card)).toBe(old);
            step(i);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("R-BANK-1/2/3: the financial function is activated only for a card in use", () => {
  const now = new Date("2026-12-01T09:00:00Z");
  const valid = new Date("2030-01-01T00:00:00Z");
  it("R-BANK-1: a card ARCHIVED or NORMAL within its validity: the account becomes ACTIVE", () => {
    expect(activate("NOT_ACTIVATED", { status: "ARCHIVED", expiresAt: valid }, now)).toBe("ACTIVE");
    expect(activate("NOT_ACTIVATED", { status: "NORMAL", expiresAt: valid }, now)).toBe("ACTIVE");
  });
  it("R-BANK-1: a card reported lost, cancelled (or replaced) or expired is refused, naming the card's state", () => {
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
  it("R-BANK-1: an account already activated or cancelled is refused", () => {
    expect(() => activate("ACTIVE", { status: "NORMAL", expiresAt: valid }, now)).toThrow(
      /bank account is ACTIVE/,
    );
  });
});

describe("account numbers and the bank's refusals in detail", () => {
  const now = new Date("2026-12-01T09:00:00Z");
  const valid = new Date("2030-01-01T00:00:00Z");
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      if (error instanceof HubError) return { message: error.message, ...error.extensions };
      throw error;
    }
    throw new Error("not refused");
  };

  it("an account number is the partner bank's BIN followed by 13 random digits", () => {
    const digits: number[] = [];
    const random = (n: number) => {
      digits.push(n);
      return "1".repeat(n);
    };
    const bins = {
      中国工商银行: "622202",
      中国建设银行: "621700",
      中国农业银行: "622848",
      中国银行: "621661",
      交通银行: "622260",
      招商银行: "621483",
    };
    for (const [bank, bin] of Object.entries(bins))
      expect(accountNumberFor(bank, random)).toBe(`${bin}1111111111111`);
    expect(accountNumberFor("某银行", random)).toBe("6210001111111111111");
    expect(new Set(digits)).toEqual(new Set([13]));
  });

  it("a card expires at its end date exactly: no activation from then on", () => {
    expect(
      refusal(() => activate("NOT_ACTIVATED", { status: "NORMAL", expiresAt: now }, now)),
    ).toEqual({
      message:
        "The card is EXPIRED: the financial function can be activated only for a card in use.",
      code: "INVALID_TRANSITION",
      cardStatus: "EXPIRED",
    });
    expect(
      activate("NOT_ACTIVATED", { status: "NORMAL", expiresAt: new Date(now.getTime() + 1) }, now),
    ).toBe("ACTIVE");
  });

  it("an unknown card leaves the decision to the account; a refusal names the account's status", () => {
    expect(activate("NOT_ACTIVATED", null, now)).toBe("ACTIVE");
    for (const current of [
      "ACTIVE",
      "LOSS_REPORTED",
      "CANCELLATION_REQUIRED",
      "CANCELLED",
    ] as const)
      expect(refusal(() => activate(current, { status: "NORMAL", expiresAt: valid }, now))).toEqual(
        {
          message: `The bank account is ${current}: only an account that is not activated yet can be activated.`,
          code: "INVALID_TRANSITION",
          currentStatus: current,
        },
      );
  });

  it("R-BANK-3: the bank cancels any account not cancelled yet", () => {
    for (const current of [
      "NOT_ACTIVATED",
      "ACTIVE",
      "LOSS_REPORTED",
      "CANCELLATION_REQUIRED",
    ] as const)
      expect(cancel(current)).toBe("CANCELLED");
    expect(refusal(() => cancel("CANCELLED"))).toEqual({
      message: "The bank account is CANCELLED: it is already cancelled.",
      code: "INVALID_TRANSITION",
      currentStatus: "CANCELLED",
    });
  });

  it("what an account stored before the bank kept its state says of the bank and the card", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    expect(bankStateOf({ status: "CANCELLED", activatedAt: at })).toBe("CANCELLED");
    expect(bankStateOf({ status: "ACTIVE", activatedAt: at })).toBe("ACTIVE");
    expect(bankStateOf({ status: "LOSS_REPORTED", activatedAt: at })).toBe("ACTIVE");
    expect(bankStateOf({ status: "NOT_ACTIVATED", activatedAt: null })).toBe("NOT_ACTIVATED");
    expect(bankStateOf({ status: "CANCELLATION_REQUIRED", activatedAt: at })).toBe("ACTIVE");
    expect(cardStatusOf({ status: "CANCELLATION_REQUIRED", activatedAt: null })).toBe("CANCELLED");
    expect(cardStatusOf({ status: "LOSS_REPORTED", activatedAt: at })).toBe("LOST");
    for (const status of ["ACTIVE", "NOT_ACTIVATED", "CANCELLED"] as const)
      expect(cardStatusOf({ status, activatedAt: at })).toBeNull();
    expect(cardStatusOf({ status: "ACTIVE", activatedAt: at, card: null })).toBeNull();
    expect(accountStatusFor("ACTIVE", null)).toBe("ACTIVE");
    expect(accountStatusFor("NOT_ACTIVATED", null)).toBe("NOT_ACTIVATED");
  });
});
