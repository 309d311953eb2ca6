import { HubError } from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";

/** The card changes (CardStatusChanged.change) that matter to the bank account. */
export type CardChange =
  "LOSS_REPORTED_FORMAL" | "LOSS_REPORT_WITHDRAWN" | "CANCELLED" | "REPLACED" | string;

/**
 * R-BANK-3 and issue #5: a formal loss report of the card puts an active account under loss
 * report, withdrawing it makes the account active again; a cancelled or replaced card leaves its
 * account CANCELLATION_REQUIRED until it is cancelled at the bank. Other changes (temporary loss,
 * enabling, collection) do not touch the account.
 */
export function accountStatusAfter(
  current: BankAccountStatus,
  change: CardChange,
): BankAccountStatus {
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

/** Card BINs of the partner banks, for account numbers of newly issued cards. */
const BINS: Record<string, string> = {
  中国工商银行: "622202",
  中国建设银行: "621700",
  中国农业银行: "622848",
  中国银行: "621661",
  交通银行: "622260",
  招商银行: "621483",
};

export function accountNumberFor(bank: string, random: (digits: number) => string): string {
  return `${BINS[bank] ?? "621000"}${random(13)}`;
}

function invalid(current: BankAccountStatus, what: string): HubError {
  return new HubError("INVALID_TRANSITION", `The bank account is ${current}: ${what}.`, {
    currentStatus: current,
  });
}

/** What the bank knows of the card when it decides (its mirror of the cards subgraph). */
export interface CardAsKnown {
  status: string;
  expiresAt: Date;
}

/**
 * R-BANK-1..3: only an account not yet activated, of a card in use (ARCHIVED or NORMAL, within its
 * validity), can be activated: a card reported lost, cancelled, replaced (cancelled) or expired
 * cannot take up a financial function, and activating would enable it (R-BANK-2). The card is
 * checked first: that is what the holder has to sort out. Unknown card state (accounts stored
 * before the bank kept it) leaves the decision to the account's status.
 */
export function activate(
  current: BankAccountStatus,
  card: CardAsKnown | null,
  now: Date,
): BankAccountStatus {
  if (card) {
    const status = card.expiresAt.getTime() <= now.getTime() ? "EXPIRED" : card.status;
    if (status !== "ARCHIVED" && status !== "NORMAL")
      throw new HubError(
        "INVALID_TRANSITION",
        `The card is ${status}: the financial function can be activated only for a card in use.`,
        { cardStatus: status },
      );
  }
  if (current !== "NOT_ACTIVATED")
    throw invalid(current, "only an account that is not activated yet can be activated");
  return "ACTIVE";
}

/**
 * R-BANK-3 (and R-DUP-2's "cancel the bank account at the counter"): the bank cancels any account
 * that is not cancelled yet.
 */
export function cancel(current: BankAccountStatus): BankAccountStatus {
  if (current === "CANCELLED") throw invalid(current, "it is already cancelled");
  return "CANCELLED";
}
