import { MaskedPii, maskAccountNumber } from "@hub/kit";
import { Directive, Field, ID, ObjectType, UseMiddleware } from "type-graphql";
import { BankAccountStatus } from "./enums.js";

@Directive('@key(fields: "id")')
@ObjectType({
  description:
    "The bank account of a card's financial function, kept by its partner bank (R-CARD-1, R-BANK-*). The bank account password is kept by the bank, never by the hub (R-PWD-1).",
})
export class BankAccount {
  @Field(() => ID, { description: "Opaque id of the account record." })
  id!: string;

  @Field(() => String, { description: "The partner bank that holds the account." })
  bank!: string;

  @Field(() => String, {
    description:
      "Bank account number, masked as `6222***********0123` unless the caller has scope pii:read (R-ID-3).",
  })
  @UseMiddleware(MaskedPii(maskAccountNumber))
  accountNumber!: string;

  @Field(() => BankAccountStatus, { description: "Status of the account (R-BANK-1..3)." })
  status!: BankAccountStatus;
}

@Directive('@key(fields: "id")')
@ObjectType({
  description:
    "A physical social security card, with its social security and financial functions (R-CARD-1).",
})
export class Card {
  @Field(() => ID, { description: "Opaque, stable id of the card." })
  id!: string;
}
