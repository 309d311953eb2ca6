import { HubError } from "@hub/kit";
import type { ReplacementReason } from "../model/replacement-reason.js";
import type { CardFacts } from "./card-facts.js";
import { isRenewalDue } from "./validity.js";

export const REPLACEMENT_FEE_YUAN = 20;

export interface Fee {
  amount: 0 | 20;
  currency: "CNY";
  reason: string;
}

const CHARGED: Record<Exclude<ReplacementReason, "QUALITY_DEFECT" | "RENEWAL">, string> = {
  STAINED: "The card surface is stained.",
  CRACKED: "The card is cracked.",
  CHIP_DETACHED: "The chip has fallen off.",
  HUMAN_DAMAGE: "The card was damaged by a person.",
  LOST: "The card is lost.",
  EXPIRED: "The card is past its 10-year validity.",
};

/**
 * R-CARD-8: 20 yuan when the surface is stained or cracked, the chip has fallen off, the card was
 * damaged by a person, it is lost, or it is past its validity; 0 yuan for a card within validity,
 * intact, that does not work (quality defect). Decisions where the seed is silent: a renewal
 * (R-CARD-7, within 60 days before expiry) is free; a quality defect past validity costs 20.
 * EXPIRED needs an expired card and RENEWAL a card in its renewal window (else BAD_USER_INPUT).
 */
export function replacementFee(
  reason: ReplacementReason,
  card: Pick<CardFacts, "status" | "expiresAt">,
  now: Date,
): Fee {
  const expired = now.getTime() >= card.expiresAt.getTime();
  switch (reason) {
    case "QUALITY_DEFECT":
      return expired
        ? {
            amount: 20,
            currency: "CNY",
            reason: "Quality defect, but the card is past its 10-year validity.",
          }
        : {
            amount: 0,
            currency: "CNY",
            reason: "Quality defect of a card within validity: free of charge.",
          };
    case "RENEWAL":
      if (!isRenewalDue(card, now)) {
        throw new HubError(
          "BAD_USER_INPUT",
          "A renewal is only possible within 60 days before the card expires; use EXPIRED for an expired card.",
        );
      }
      return {
        amount: 0,
        currency: "CNY",
        reason: "Renewal before expiry with the holder's consent: free of charge.",
      };
    case "EXPIRED":
      if (!expired)
        throw new HubError(
          "BAD_USER_INPUT",
          "The card is still within its validity; choose another reason.",
        );
      return { amount: 20, currency: "CNY", reason: CHARGED.EXPIRED };
    default:
      return { amount: 20, currency: "CNY", reason: CHARGED[reason] };
  }
}
