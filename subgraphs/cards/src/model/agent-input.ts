import { Field, InputType } from "type-graphql";

@InputType({ description: "An agent acting in person for the cardholder, with the agent's own ID and a power of attorney (R-ID-2). Recorded on the card's history." })
export class AgentInput {
  @Field(() => String, { description: "The agent's own identity number (validated as R-ID-1)." })
  idNumber!: string;

  @Field(() => String, { description: "The agent's name." })
  name!: string;

  @Field(() => String, { description: "Reference of the power of attorney that was checked." })
  powerOfAttorneyRef!: string;
}
