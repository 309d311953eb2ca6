import { Field, ID, ObjectType } from "type-graphql";
import { Card } from "./card.js";
import { DuplicateAction } from "./enums.js";

@ObjectType({ description: "A recommended action for one card of a duplicate group (R-DUP-2)." })
export class DuplicateRecommendation {
  @Field(() => ID, { description: "The card the action is for." })
  cardId!: string;

  @Field(() => DuplicateAction, { description: "What to do with the card." })
  action!: DuplicateAction;

  @Field(() => String, { description: "Why, in words a front-line operator can read out." })
  reason!: string;
}

@ObjectType({ description: "Two or more cards of one person in the same province (R-DUP-1)." })
export class DuplicateGroup {
  @Field(() => String, { description: "2-digit province code shared by the cards." })
  province!: string;

  @Field(() => [Card], { description: "The duplicate cards, oldest first." })
  cards!: Card[];

  @Field(() => [DuplicateRecommendation], {
    description: "What to do with each card that needs an action (R-DUP-2).",
  })
  actions!: DuplicateRecommendation[];
}
