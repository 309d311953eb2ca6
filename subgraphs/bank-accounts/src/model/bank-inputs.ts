import { AgentInput } from "@hub/kit";
import { Field, ID, InputType, ObjectType } from "type-graphql";
import { BankAccount, Card } from "./bank-account.js";

@InputType({
  description: "Activate the card's financial function, in person at the partner bank (R-BANK-1).",
})
export class ActivateFinancialFunctionInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => AgentInput, {
    nullable: true,
    description:
      "The agent acting for an elderly, seriously ill or disabled holder, if any (R-BANK-1).",
  })
  agent?: AgentInput | null;

  @Field(() => String, {
    description: "Makes a retry safe: the same key from the same channel returns the first result.",
  })
  idempotencyKey!: string;
}

@InputType({ description: "Cancel the card's bank account over the bank counter (R-BANK-3)." })
export class CancelBankAccountInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => String, {
    description: "Makes a retry safe: the same key from the same channel returns the first result.",
  })
  idempotencyKey!: string;
}

@ObjectType({ description: "The bank account after the change." })
export class BankAccountPayload {
  @Field(() => BankAccount, { description: "The bank account after the change." })
  bankAccount!: BankAccount;

  @Field(() => Card, {
    description:
      "The card after the change, with what it caused there: an activation has already enabled the card's social security function (R-BANK-2, contract v2).",
  })
  card!: Card;
}
