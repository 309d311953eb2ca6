import type { CardStatus } from "../model/enums.js";
import type { CardFacts } from "./card-facts.js";

/** R-CARD-7: a card is valid for 10 years from issue. */
export const VALIDITY_YEARS = 10;
/** R-CARD-7: renewal becomes due this many days before expiry. */
export const RENEWAL_WINDOW_DAYS = 60;
/** R-CARD-5: the holder should enable the card within this many months of collecting it. */
export const ACTIVATION_DEADLINE_MONTHS = 6;

const DAY_MS = 24 * 60 * 60 * 1000;

function addUtcMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  result.setUTCMonth(result.getUTCMonth() + months);
  return result;
}

export function expiryFor(issuedAt: Date): Date {
  return addUtcMonths(issuedAt, VALIDITY_YEARS * 12);
}

/**
 * R-CARD-7: the status a caller sees. EXPIRED is derived from the stored end date when read, so
 * no job has to flip it. Decision: only a card in use (ARCHIVED/NORMAL) shows EXPIRED; a loss
 * report or a cancellation stays visible as such, because it is what the holder must act on.
 */
export function effectiveStatus(
  card: Pick<CardFacts, "status" | "expiresAt">,
  now: Date,
): CardStatus {
  if (
    (card.status === "NORMAL" || card.status === "ARCHIVED") &&
    now.getTime() >= card.expiresAt.getTime()
  ) {
    return "EXPIRED";
  }
  return card.status;
}

/** R-CARD-7: within 60 days before expiry (and not yet expired or cancelled) renewal is due. */
export function isRenewalDue(card: Pick<CardFacts, "status" | "expiresAt">, now: Date): boolean {
  if (card.status === "CANCELLED") return false;
  const untilExpiry = card.expiresAt.getTime() - now.getTime();
  return untilExpiry > 0 && untilExpiry <= RENEWAL_WINDOW_DAYS * DAY_MS;
}

/**
 * R-CARD-5: collected more than 6 months ago and still not enabled. Not a penalty and not a block
 * (R-CARD-6): only a prompt for channels.
 */
export function isActivationOverdue(
  card: Pick<CardFacts, "status" | "collectedAt" | "socialFunction">,
  now: Date,
): boolean {
  if (card.socialFunction.enabled || card.collectedAt === null || card.status === "CANCELLED")
    return false;
  return now.getTime() > addUtcMonths(card.collectedAt, ACTIVATION_DEADLINE_MONTHS).getTime();
}
