import { AgentInput } from "@hub/kit";
import { Field, ID, InputType } from "type-graphql";

@InputType({ description: "A social security password entry." })
export class VerifyCardPasswordInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => String, { description: "The password entered (6 digits). Never stored or logged." })
  password!: string;
}

@InputType({
  description:
    "Change a card's social security password; changing the initial one also enables the card (R-PWD-2).",
})
export class ChangeCardPasswordInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => String, { description: "The current password (the initial one for a new card)." })
  currentPassword!: string;

  @Field(() => String, {
    description:
      "The new password: 6 digits, not the initial one, not one digit repeated, not a run.",
  })
  newPassword!: string;
}

@InputType({
  description:
    "Unlock and reset a card's password to the initial one (counter or website only, R-PWD-3).",
})
export class ResetCardPasswordInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => AgentInput, {
    nullable: true,
    description: "The agent acting for the holder, if any (R-ID-2).",
  })
  agent?: AgentInput | null;

  @Field(() => String, {
    nullable: true,
    description: "Makes a retry safe: the same key from the same channel returns the first result.",
  })
  idempotencyKey?: string | null;
}

@InputType({
  description:
    "Set or change the person's electronic-card password (one for every channel, R-PWD-4/5).",
})
export class SetElectronicCardPasswordInput {
  @Field(() => ID, { description: "The person's id." })
  personId!: string;

  @Field(() => String, {
    nullable: true,
    description: "The current password; required once one is set.",
  })
  currentPassword?: string | null;

  @Field(() => String, { description: "The new password: 6 digits, not weak." })
  newPassword!: string;
}

@InputType({ description: "An electronic-card password entry." })
export class VerifyElectronicCardPasswordInput {
  @Field(() => ID, { description: "The person's id." })
  personId!: string;

  @Field(() => String, { description: "The password entered. Never stored or logged." })
  password!: string;
}
