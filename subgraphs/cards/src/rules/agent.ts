import { checkIdNumber, HubError } from "@hub/kit";

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
  if (agent.name.trim().length === 0) throw new HubError("BAD_USER_INPUT", "The agent's name is required.");
  if (agent.powerOfAttorneyRef.trim().length === 0) throw new HubError("BAD_USER_INPUT", "An agent needs a power of attorney (its reference).");
  return { idNumber: id.idNumber, name: agent.name.trim(), powerOfAttorneyRef: agent.powerOfAttorneyRef.trim() };
}
