import { GraphQLDateTime } from "graphql-scalars";
import { Field, ObjectType } from "type-graphql";
import { ElectronicCardPasswordState } from "./enums.js";

@ObjectType({
  description:
    "The person's electronic-card password status, the same on every channel (R-PWD-4, R-PWD-5).",
})
export class ElectronicCardPasswordStatus {
  @Field(() => ElectronicCardPasswordState, { description: "NOT_SET, SET or LOCKED." })
  state!: ElectronicCardPasswordState;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "When a lock lifts by itself (24 hours after it began); null unless LOCKED.",
  })
  lockedUntil!: Date | null;
}
