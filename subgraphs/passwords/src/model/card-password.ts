import { GraphQLDateTime } from "graphql-scalars";
import { Field, Int, ObjectType } from "type-graphql";
import { PasswordState } from "./enums.js";

@ObjectType({
  description:
    "The card's social security password, as far as it may be shown: never the password or its hash (R-PWD-6).",
})
export class CardPassword {
  @Field(() => PasswordState, { description: "INITIAL, SET or LOCKED." })
  state!: PasswordState;

  @Field(() => Int, {
    description: "Consecutive wrong entries since the last correct one (six lock the password).",
  })
  failedAttempts!: number;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "When the password was locked; null unless LOCKED.",
  })
  lockedAt!: Date | null;
}
