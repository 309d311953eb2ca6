import { registerEnumType } from "type-graphql";

/** R-BANK-*: the card's bank account (its financial function). */
export const BankAccountStatus = {
  NOT_ACTIVATED: "NOT_ACTIVATED",
  ACTIVE: "ACTIVE",
  LOSS_REPORTED: "LOSS_REPORTED",
  CANCELLATION_REQUIRED: "CANCELLATION_REQUIRED",
  CANCELLED: "CANCELLED",
} as const;
export type BankAccountStatus = (typeof BankAccountStatus)[keyof typeof BankAccountStatus];

registerEnumType(BankAccountStatus, {
  name: "BankAccountStatus",
  description: "Status of the bank account loaded on the card by its partner bank (R-BANK-1..3).",
  valuesConfig: {
    NOT_ACTIVATED: {
      description:
        "Opened with the card; the financial function is not activated yet (activate in person at the bank, R-BANK-1).",
    },
    ACTIVE: { description: "The financial function is active." },
    LOSS_REPORTED: {
      description: "The card is formally reported lost; the bank account is under loss report.",
    },
    CANCELLATION_REQUIRED: {
      description:
        "The card was cancelled or replaced: the account must be cancelled at a counter of the bank (R-BANK-3).",
    },
    CANCELLED: { description: "The account was cancelled at the bank." },
  },
});
