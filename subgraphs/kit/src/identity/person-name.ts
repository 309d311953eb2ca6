import { HubError } from "../errors.js";

/**
 * Characters a name never holds: control characters, and the bidirectional overrides, embeddings
 * and isolates that make a name display differently from what is stored (a name shown at a counter
 * must read as it is recorded).
 */
const FORBIDDEN = /[\p{Cc}\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
/** A letter, digit, punctuation or symbol: something a person can see. */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * A person's (or an agent's) name as a channel typed it: trimmed, 1 to 50 characters, with at
 * least one visible character and none of the forbidden ones. Returns the trimmed name.
 */
export function checkPersonName(value: string, who = "A name"): string {
  const name = value.trim();
  if (name.length === 0 || name.length > 50)
    throw new HubError("BAD_USER_INPUT", `${who} has 1 to 50 characters.`);
  if (FORBIDDEN.test(name))
    throw new HubError(
      "BAD_USER_INPUT",
      `${who} may not contain control or text-direction characters.`,
    );
  if (!VISIBLE.test(name))
    throw new HubError("BAD_USER_INPUT", `${who} needs at least one visible character.`);
  return name;
}
