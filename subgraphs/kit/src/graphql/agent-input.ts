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

/**
 * Bounds of the free text a channel types for the history. Each is recorded on every event of the
 * card and shown at counters, so it is bounded like a form's box, well beyond any real value: a
 * reference (power of attorney, police certificate) is a document number, ≤ 64 characters; an
 * agent's name is a person's name, ≤ 50 (checkPersonName, as for a registered person).
 */
export const MAX_REFERENCE_LENGTH = 64;

/**
 * Free text a channel types (a reason, a reference): trimmed, at most `max` characters (counted
 * as code points, as a person counts them) and, when required, not empty. Returns the trimmed
 * text; the error names the field. Checked before anything is written or looked up.
 */
export function checkFreeText(
  field: string,
  value: string,
  { max, required, what }: { max: number; required: boolean; what: string },
): string {
  const text = value.trim();
  if (required && text.length === 0)
    throw new HubError("BAD_USER_INPUT", `${what} is required.`, { field });
  // Only a string longer than `max` code units can be longer than `max` code points.
  if (text.length > max && [...text].length > max)
    throw new HubError("BAD_USER_INPUT", `${what} has at most ${max} characters.`, { field });
  return text;
}

/** A kit check's error, naming the input field it was about (a HubError keeps its code). */
function naming<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof HubError)
      throw new HubError(error.code, error.message, { ...error.extensions, field });
    throw error;
  }
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
  if (!id.valid)
    throw new HubError("INVALID_ID_NUMBER", `Agent: ${id.reason}`, { field: "agent.idNumber" });
  const name = naming("agent.name", () => checkPersonName(agent.name, "The agent's name"));
  const powerOfAttorneyRef = checkFreeText("agent.powerOfAttorneyRef", agent.powerOfAttorneyRef, {
    max: MAX_REFERENCE_LENGTH,
    required: true,
    what: "The agent's power of attorney (its reference)",
  });
  return { idNumber: id.idNumber, name, powerOfAttorneyRef };
}
