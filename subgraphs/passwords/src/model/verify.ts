import { GraphQLDateTime } from "graphql-scalars";
import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { CardPassword } from "./card-password.js";
import { ElectronicCardPasswordStatus } from "./electronic-card-password.js";
import { Card, Person } from "./entities.js";

const CARD_AFTER =
  "The card after the entry, so a client's cache shows its password state (and, after the initial password was changed, its enabled social security function) at once (contract v2).";
const PERSON_AFTER =
  "The person after the entry, so a client's cache shows the electronic-card password state on every channel at once (contract v2).";

/** R-PWD-6: a verification answers only ok, wrong (attempts left) or locked (until when). */
export const VerifyResult = { OK: "OK", WRONG: "WRONG", LOCKED: "LOCKED" } as const;
export type VerifyResult = (typeof VerifyResult)[keyof typeof VerifyResult];

registerEnumType(VerifyResult, {
  name: "VerifyResult",
  description: "Outcome of a password entry. Nothing says how close a wrong guess was (R-PWD-6).",
  valuesConfig: {
    OK: { description: "Correct; the count of wrong entries is reset." },
    WRONG: {
      description: "Wrong; attemptsLeft says how many more wrong entries lock the password.",
    },
    LOCKED: { description: "The password is locked (possibly by this entry)." },
  },
});

@ObjectType({ description: "Result of a social security password entry." })
export class VerifyCardPasswordPayload {
  @Field(() => VerifyResult, { description: "OK, WRONG or LOCKED." })
  result!: VerifyResult;

  @Field(() => Int, {
    description: "Wrong entries left before the password locks (0 when locked).",
  })
  attemptsLeft!: number;

  @Field(() => Card, { description: CARD_AFTER })
  card!: Card;
}

@ObjectType({ description: "Result of changing a social security password." })
export class ChangeCardPasswordPayload {
  @Field(() => VerifyResult, {
    description:
      "OK when changed; WRONG when the current password was wrong (it counts as a wrong entry); LOCKED when that entry locked it.",
  })
  result!: VerifyResult;

  @Field(() => CardPassword, { description: "The password state afterwards." })
  password!: CardPassword;

  @Field(() => Card, { description: CARD_AFTER })
  card!: Card;
}

@ObjectType({ description: "Result of an in-person or website reset (R-PWD-3)." })
export class ResetCardPasswordPayload {
  @Field(() => CardPassword, {
    description: "The password state afterwards: INITIAL with 0 failures.",
  })
  password!: CardPassword;

  @Field(() => Card, { description: CARD_AFTER })
  card!: Card;
}

@ObjectType({ description: "Result of setting the electronic-card password." })
export class SetElectronicCardPasswordPayload {
  @Field(() => ElectronicCardPasswordStatus, {
    description: "The status afterwards, the same on every channel (R-PWD-5).",
  })
  status!: ElectronicCardPasswordStatus;

  @Field(() => Person, { description: PERSON_AFTER })
  person!: Person;
}

@ObjectType({ description: "Result of an electronic-card password entry." })
export class VerifyElectronicCardPasswordPayload {
  @Field(() => VerifyResult, { description: "OK, WRONG or LOCKED." })
  result!: VerifyResult;

  @Field(() => Int, {
    description: "Wrong entries left before every electronic-card service locks (0 when locked).",
  })
  attemptsLeft!: number;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "When a lock lifts by itself; null unless LOCKED.",
  })
  lockedUntil!: Date | null;

  @Field(() => Person, { description: PERSON_AFTER })
  person!: Person;
}
