import { registerEnumType } from "type-graphql";
import { CARD_EVENT_TYPES, type CardEventType } from "../rules/card-event-types.js";

/** The enum as TypeGraphQL needs it: an object of names to values. */
export const CardEventTypeEnum = Object.fromEntries(CARD_EVENT_TYPES.map((t) => [t, t])) as {
  [K in CardEventType]: K;
};

const DESCRIPTIONS: Record<CardEventType, string> = {
  CARD_ISSUED: "A card was issued (a first card, or one replacing an earlier card).",
  CARD_COLLECTED: "The holder collected the card.",
  SOCIAL_SECURITY_FUNCTION_ENABLED: "The card's social security function was enabled (R-CARD-3).",
  LOSS_REPORTED: "The card was reported lost (temporarily or formally).",
  LOSS_WITHDRAWN: "The loss report was withdrawn.",
  CARD_CANCELLED: "The card was cancelled.",
  CARD_REPLACED: "The card was replaced by a new card (and cancelled).",
  ELECTRONIC_CARD_ISSUED: "An electronic card bound to the card was issued.",
  CARD_PASSWORD_LOCKED: "The card's social security password locked after wrong entries (R-PWD-3).",
  CARD_PASSWORD_RESET: "The card's social security password was reset to the initial one.",
  ELECTRONIC_PASSWORD_LOCKED:
    "The holder's electronic-card password locked for 24 hours after wrong entries (R-PWD-4).",
  FINANCIAL_FUNCTION_ACTIVATED:
    "The card's financial function (its bank account) was activated at the bank (R-BANK-1).",
  BANK_ACCOUNT_CANCELLED: "The card's bank account was cancelled at the bank (R-BANK-3).",
};

registerEnumType(CardEventTypeEnum, {
  name: "CardEventType",
  description: "Kind of change the status-change feed reports (contract v3).",
  valuesConfig: Object.fromEntries(
    CARD_EVENT_TYPES.map((t) => [t, { description: DESCRIPTIONS[t] }]),
  ) as Record<CardEventType, { description: string }>,
});
