import { Directive, Field, ID, ObjectType } from "type-graphql";

/** The cards subgraph's view of a person: only the key; cards and duplicates are added here. */
@Directive('@key(fields: "id")')
@ObjectType({ description: "A cardholder: a person known to the social security system." })
export class Person {
  @Field(() => ID, { description: "Opaque, stable id of the person. Never the identity number." })
  id!: string;
}
