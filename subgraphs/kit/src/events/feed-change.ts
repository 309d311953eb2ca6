import type { EventPayload, PassedOnEvent, ReceivedBy } from "./catalogue.js";

/**
 * What the status-change feed says of the catalogue's events: the one rule, used by the feed to
 * log what it receives and by cards to decide which of the events it receives about a card to
 * pass on to the feed (ForwardedToFeed). Here, beside the catalogue, so that both use this one
 * rule rather than each its own copy.
 */

/** The kinds of change the status-change feed reports (CONTRACT.md "Values", contract v3). */
export const CARD_EVENT_TYPES = [
  "CARD_ISSUED",
  "CARD_COLLECTED",
  "SOCIAL_SECURITY_FUNCTION_ENABLED",
  "LOSS_REPORTED",
  "LOSS_WITHDRAWN",
  "CARD_CANCELLED",
  "CARD_REPLACED",
  "ELECTRONIC_CARD_ISSUED",
  "CARD_PASSWORD_LOCKED",
  "CARD_PASSWORD_RESET",
  "ELECTRONIC_PASSWORD_LOCKED",
  "FINANCIAL_FUNCTION_ACTIVATED",
  "BANK_ACCOUNT_CANCELLED",
] as const;

export type CardEventType = (typeof CARD_EVENT_TYPES)[number];

/** The events the feed receives from their producers themselves (the rest come through cards). */
type ReceivedDirectly = Exclude<ReceivedBy<"feed">, "ForwardedToFeed">;

/**
 * An event as the mapping reads it: its catalogue type and checked payload. One the feed receives
 * itself, or one another subgraph sent cards about a card, which cards passes on.
 */
export type FeedSource =
  | { [T in ReceivedDirectly]: { type: T; payload: EventPayload<T> } }[ReceivedDirectly]
  | PassedOnEvent;

/**
 * What one log entry says about a change. `statusBefore`/`statusAfter` are the status of what
 * changed, as of the event: the card's CardStatus for a card's change, the PasswordState (or the
 * electronic-card password's state) for a password's, the BankAccountStatus for an account's.
 */
export interface FeedChange {
  type: CardEventType;
  /** Null for a change of the person's electronic-card password, which is no one card's. */
  cardId: string | null;
  /** Null only where an older producer did not know the card's holder. */
  personId: string | null;
  statusBefore: string | null;
  statusAfter: string | null;
}

/** The cards subgraph's change types (its history's CardChangeType) as the feed names them. */
const CARD_CHANGES: Record<string, CardEventType> = {
  ISSUED: "CARD_ISSUED",
  ISSUED_AS_REPLACEMENT: "CARD_ISSUED",
  COLLECTED: "CARD_COLLECTED",
  SOCIAL_FUNCTION_ENABLED: "SOCIAL_SECURITY_FUNCTION_ENABLED",
  LOSS_REPORTED_TEMPORARY: "LOSS_REPORTED",
  LOSS_REPORTED_FORMAL: "LOSS_REPORTED",
  LOSS_REPORT_WITHDRAWN: "LOSS_WITHDRAWN",
  CANCELLED: "CARD_CANCELLED",
  REPLACED: "CARD_REPLACED",
  ELECTRONIC_CARD_ISSUED: "ELECTRONIC_CARD_ISSUED",
};

/**
 * The feed's entry for an event, or null when the event is no change the feed reports (an
 * account status that follows a card's change, already reported as the card's). Pure: one place
 * decides what the log says. A card change it does not know throws, so the event waits at its
 * relay (and is dead-lettered) rather than vanishing from the log.
 */
export function feedChangeOf(event: FeedSource): FeedChange | null {
  switch (event.type) {
    case "CardIssued": {
      const { cardId, personId, status } = event.payload;
      return { type: "CARD_ISSUED", cardId, personId, statusBefore: null, statusAfter: status };
    }
    case "CardStatusChanged":
    case "CardUpdated": {
      const { cardId, personId, status, fromStatus, change } = event.payload;
      const type = CARD_CHANGES[change];
      if (!type) throw new Error(`the feed does not know the card change ${change}`);
      return { type, cardId, personId, statusBefore: fromStatus, statusAfter: status };
    }
    case "FinancialFunctionActivated": {
      const { cardId, personId, fromStatus, status } = event.payload;
      return {
        type: "FINANCIAL_FUNCTION_ACTIVATED",
        cardId,
        personId: personId ?? null,
        statusBefore: fromStatus ?? null,
        statusAfter: status ?? null,
      };
    }
    case "BankAccountStatusChanged": {
      const { cardId, personId, fromStatus, status } = event.payload;
      // An activation is reported by FinancialFunctionActivated, and a status that follows the
      // card (loss reported, cancellation required) by the card's own change: only the
      // account's cancellation at the bank is its own change.
      if (status !== "CANCELLED" || fromStatus === "CANCELLED") return null;
      return {
        type: "BANK_ACCOUNT_CANCELLED",
        cardId,
        personId: personId ?? null,
        statusBefore: fromStatus ?? null,
        statusAfter: status,
      };
    }
    case "CardPasswordStateChanged": {
      const { cardId, personId, change, fromState, state } = event.payload;
      return {
        type: change === "LOCKED" ? "CARD_PASSWORD_LOCKED" : "CARD_PASSWORD_RESET",
        cardId,
        personId,
        statusBefore: fromState,
        statusAfter: state,
      };
    }
    case "ElectronicPasswordLocked":
      // R-PWD-4/5: one password per person for every channel; it locks only once it is set.
      return {
        type: "ELECTRONIC_PASSWORD_LOCKED",
        cardId: null,
        personId: event.payload.personId,
        statusBefore: "SET",
        statusAfter: "LOCKED",
      };
  }
}
