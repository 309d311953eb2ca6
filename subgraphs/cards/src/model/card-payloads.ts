import { Field, Int, ObjectType } from "type-graphql";
import { Card } from "./card.js";

@ObjectType({ description: "The card after the change." })
export class CardPayload {
  @Field(() => Card, { description: "The card after the change." })
  card!: Card;
}

@ObjectType({ description: "Result of enabling the social security function (R-CARD-4)." })
export class EnableSocialSecurityFunctionPayload {
  @Field(() => Boolean, {
    description:
      "true: activation successful, first activation; false: it was already enabled (not an error).",
  })
  firstActivation!: boolean;

  @Field(() => Card, { description: "The card after the change." })
  card!: Card;
}

@ObjectType({ description: "The replacement fee (R-CARD-8)." })
export class Fee {
  @Field(() => Int, { description: "Amount in yuan: 20 or 0." })
  amount!: number;

  @Field(() => String, { description: "Currency: CNY." })
  currency!: string;

  @Field(() => String, { description: "Why this fee applies; recorded on the replacement." })
  reason!: string;
}

@ObjectType({
  description: "Result of a replacement: the cancelled card, the new card and the fee.",
})
export class ReplaceCardPayload {
  @Field(() => Card, { description: "The replaced card, now CANCELLED." })
  oldCard!: Card;

  @Field(() => Card, { description: "The new card." })
  newCard!: Card;

  @Field(() => Fee, { description: "The replacement fee." })
  fee!: Fee;
}
