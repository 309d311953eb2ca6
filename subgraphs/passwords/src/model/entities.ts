import { Directive, Field, ID, ObjectType } from "type-graphql";

@Directive('@key(fields: "id")')
@ObjectType({
  description:
    "A physical social security card, with its social security and financial functions (R-CARD-1).",
})
export class Card {
  @Field(() => ID, { description: "Opaque, stable id of the card." })
  id!: string;
}

@Directive('@key(fields: "id")')
@ObjectType({ description: "A cardholder: a person known to the social security system." })
export class Person {
  @Field(() => ID, { description: "Opaque, stable id of the person. Never the identity number." })
  id!: string;
}
