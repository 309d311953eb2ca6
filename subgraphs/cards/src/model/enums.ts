import { registerEnumType } from "type-graphql";

/** R-CARD-2: a card's application status. */
export const CardStatus = {
  ARCHIVED: "ARCHIVED",
  NORMAL: "NORMAL",
  TEMPORARY_LOSS: "TEMPORARY_LOSS",
  LOST: "LOST",
  CANCELLED: "CANCELLED",
  EXPIRED: "EXPIRED",
} as const;
export type CardStatus = (typeof CardStatus)[keyof typeof CardStatus];

registerEnumType(CardStatus, {
  name: "CardStatus",
  description:
    "Application status of a physical card (R-CARD-2). Collection is tracked separately (collectedAt).",
  valuesConfig: {
    ARCHIVED: {
      description:
        "Issued, social security function not yet enabled (platforms show it as sealed/archived).",
    },
    NORMAL: { description: "In use: the social security function is enabled." },
    TEMPORARY_LOSS: {
      description: "Reported lost temporarily (by phone, website or app); can be withdrawn.",
    },
    LOST: {
      description: "Formally reported lost at a counter; can be withdrawn or end in a replacement.",
    },
    CANCELLED: { description: "Cancelled; a cancelled card never changes again (R-CARD-10)." },
    EXPIRED: {
      description: "Past its 10-year validity (R-CARD-7); derived from expiresAt when read.",
    },
  },
});

/** R-ECARD-2: what the electronic card can do, following its physical card. */
export const ElectronicCardAvailability = {
  USABLE: "USABLE",
  AUTHORIZATION_REQUIRED: "AUTHORIZATION_REQUIRED",
  UNAVAILABLE: "UNAVAILABLE",
} as const;
export type ElectronicCardAvailability =
  (typeof ElectronicCardAvailability)[keyof typeof ElectronicCardAvailability];

registerEnumType(ElectronicCardAvailability, {
  name: "ElectronicCardAvailability",
  description:
    "Whether the electronic card can be used, which follows its physical card (R-ECARD-2).",
  valuesConfig: {
    USABLE: { description: "The physical card is normal or archived: the electronic card works." },
    AUTHORIZATION_REQUIRED: {
      description:
        "The physical card is reported lost: usable only with the holder's authorization.",
    },
    UNAVAILABLE: {
      description: "The physical card is cancelled or expired: personal business is unavailable.",
    },
  },
});

/** R-DUP-2: what to do with each card of a duplicate group. */
export const DuplicateAction = {
  KEEP: "KEEP",
  CONFIRM_LOCAL_USE: "CONFIRM_LOCAL_USE",
  CANCEL_CARD_AND_BANK_ACCOUNT: "CANCEL_CARD_AND_BANK_ACCOUNT",
  CANCEL_BANK_ACCOUNT_AT_COUNTER: "CANCEL_BANK_ACCOUNT_AT_COUNTER",
} as const;
export type DuplicateAction = (typeof DuplicateAction)[keyof typeof DuplicateAction];

registerEnumType(DuplicateAction, {
  name: "DuplicateAction",
  description: "Recommended action for one card of a duplicate group (R-DUP-2).",
  valuesConfig: {
    KEEP: { description: "Keep this card: it is the one in use in this province." },
    CONFIRM_LOCAL_USE: {
      description:
        "Keep it only if the holder uses local employment/social security services with it; otherwise cancel it with its bank account.",
    },
    CANCEL_CARD_AND_BANK_ACCOUNT: {
      description: "Apply to cancel this card together with its bank account.",
    },
    CANCEL_BANK_ACCOUNT_AT_COUNTER: {
      description:
        "The card is unavailable but its bank account is still open: cancel the account over the counter at a partner bank outlet.",
    },
  },
});

/** What happened to a card, as recorded in its history. */
export const CardEventType = {
  ISSUED: "ISSUED",
  COLLECTED: "COLLECTED",
  SOCIAL_FUNCTION_ENABLED: "SOCIAL_FUNCTION_ENABLED",
  LOSS_REPORTED_TEMPORARY: "LOSS_REPORTED_TEMPORARY",
  LOSS_REPORTED_FORMAL: "LOSS_REPORTED_FORMAL",
  LOSS_REPORT_WITHDRAWN: "LOSS_REPORT_WITHDRAWN",
  CANCELLED: "CANCELLED",
  REPLACED: "REPLACED",
  ISSUED_AS_REPLACEMENT: "ISSUED_AS_REPLACEMENT",
  ELECTRONIC_CARD_ISSUED: "ELECTRONIC_CARD_ISSUED",
} as const;
export type CardEventType = (typeof CardEventType)[keyof typeof CardEventType];

// Named CardChangeType in the schema: contract v3 gives `CardEventType` to the status-change feed.
registerEnumType(CardEventType, {
  name: "CardChangeType",
  description: "Kind of change recorded in a card's history.",
  valuesConfig: {
    ISSUED: { description: "The card was issued (made and registered to the holder)." },
    COLLECTED: { description: "The holder collected the card." },
    SOCIAL_FUNCTION_ENABLED: {
      description: "The social security function was enabled (R-CARD-3).",
    },
    LOSS_REPORTED_TEMPORARY: { description: "A temporary loss report was made." },
    LOSS_REPORTED_FORMAL: { description: "A formal loss report was made at a counter." },
    LOSS_REPORT_WITHDRAWN: {
      description: "The loss report was withdrawn: the card is back to normal.",
    },
    CANCELLED: { description: "The card was cancelled." },
    REPLACED: { description: "The card was replaced by a new card (and cancelled)." },
    ISSUED_AS_REPLACEMENT: { description: "The card was issued to replace an earlier card." },
    ELECTRONIC_CARD_ISSUED: { description: "An electronic card bound to this card was issued." },
  },
});

/** R-BANK-*: status of the card's bank account, mirrored here from the bank-accounts subgraph. */
export type MirroredBankAccountStatus =
  "NOT_ACTIVATED" | "ACTIVE" | "LOSS_REPORTED" | "CANCELLATION_REQUIRED" | "CANCELLED";
