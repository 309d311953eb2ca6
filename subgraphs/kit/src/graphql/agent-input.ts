import "reflect-metadata";
import { Field, InputType } from "type-graphql";
import { checkIdNumber } from "../identity/identity-number.js";
import { checkPersonName } from "../identity/person-name.js";
import { HubError } from "../errors.js";

/** One definition for every subgraph, so the composed input type is the contract's AgentInput. */
@InputType({
  description:
    "An agent acting in person for the cardholder, with the agent's own ID and a power of attorney (R-ID-2). Recorded on the history.",
})
export class AgentInput {
  @Field(() => String, { description: "The agent's own identity number (validated as R-ID-1)." })
  idNumber!: string;

  @Field(() => String, { description: "The agent's name." })
  name!: string;

  @Field(() => String, { description: "Reference of the power of attorney that was checked." })
  powerOfAttorneyRef!: string;
}

export interface Agent {
  idNumber: string;
  name: string;
  powerOfAttorneyRef: string;
}

/** R-ID-2: an agent acts only with the agent's own valid ID and a power of attorney. */
export function validateAgent(agent: Agent | null | undefined, today: Date): Agent | null {
  if (!agent) return null;
  const id = checkIdNumber(agent.idNumber, today);
  if (!id.valid) throw new HubError("INVALID_ID_NUMBER", `Agent: ${id.reason}`);
  const name = checkPersonName(agent.name, "The agent's name");
  if (agent.powerOfAttorneyRef.trim().length === 0)
    throw new HubError("BAD_USER_INPUT", "An agent needs a power of attorney (its reference).");
  return {
    idNumber: id.idNumber,
    name,
    powerOfAttorneyRef: agent.powerOfAttorneyRef.trim(),
  };
}
