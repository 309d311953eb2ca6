import { HubError } from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";

/**
 * What the bank itself decided on the account, apart from what the card does to it: opened with
 * the card (NOT_ACTIVATED), activated at its counter (ACTIVE, R-BANK-1) or cancelled there
 * (CANCELLED, R-BANK-3). Kept apart from the card's state so the account's status can be derived
 * from the two whatever order the card's events arrive in.
 */
export type BankState = "NOT_ACTIVATED" | "ACTIVE" | "CANCELLED";

/**
 * R-BANK-3: the account's status from the bank's own state and the card's newest
 * known status. A cancelled (or replaced) card leaves an account the bank has not cancelled
 * CANCELLATION_REQUIRED; a formally lost card puts an active account under loss report, and
 * withdrawing the report (the card in use again) makes it active again. A temporary loss report,
 * enabling or collecting the card do not touch the account. Derived from absolute states rather
 * than applied as deltas per change: a late, older change then cannot leave the account behind.
 * `cardStatus` is null when the bank does not know the card's status.
 */
export function accountStatusFor(bank: BankState, cardStatus: string | null): BankAccountStatus {
  if (bank === "CANCELLED") return "CANCELLED";
  if (cardStatus === "CANCELLED") return "CANCELLATION_REQUIRED";
  if (cardStatus === "LOST" && bank === "ACTIVE") return "LOSS_REPORTED";
  return bank;
}

/** An account as stored: `bankState` is absent on accounts stored before the bank kept it. */
export interface StoredAccountState {
  status: BankAccountStatus;
  activatedAt: Date | null;
  bankState?: BankState | undefined;
  card?: { status: string } | null | undefined;
}

/**
 * The bank's own state of an account; for accounts stored before it was kept, read off the
 * status they have (only the bank cancels, only an activation makes an account active or lost).
 */
export function bankStateOf(account: StoredAccountState): BankState {
  if (account.bankState) return account.bankState;
  switch (account.status) {
    case "CANCELLED":
      return "CANCELLED";
    case "ACTIVE":
    case "LOSS_REPORTED":
      return "ACTIVE";
    case "NOT_ACTIVATED":
      return "NOT_ACTIVATED";
    case "CANCELLATION_REQUIRED":
      return account.activatedAt ? "ACTIVE" : "NOT_ACTIVATED";
  }
}

/**
 * The card's status as the bank knows it; for accounts stored before the bank mirrored the card,
 * what their status says of it, so that `accountStatusFor` gives back the status they have.
 */
export function cardStatusOf(account: StoredAccountState): string | null {
  if (account.card) return account.card.status;
  if (account.status === "CANCELLATION_REQUIRED") return "CANCELLED";
  if (account.status === "LOSS_REPORTED") return "LOST";
  return null;
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
 * before the bank kept it) leaves the decision to the account's status. `current` is the account's
 * (derived) status, so a refusal names what the caller sees; the answer is the bank's own new
 * state, from which the status is derived again.
 */
export function activate(
  current: BankAccountStatus,
  card: CardAsKnown | null,
  now: Date,
): BankState {
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
 * that is not cancelled yet. Answers the bank's own new state (see `activate`).
 */
export function cancel(current: BankAccountStatus): BankState {
  if (current === "CANCELLED") throw invalid(current, "it is already cancelled");
  return "CANCELLED";
}
