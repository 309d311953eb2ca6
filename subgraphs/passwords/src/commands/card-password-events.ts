import type { Caller, NewEvent } from "@hub/kit";
import type { PasswordState } from "../model/enums.js";

/**
 * The event a card password's lock or reset commits with (the status-change feed's
 * CARD_PASSWORD_LOCKED / CARD_PASSWORD_RESET): the card, its holder, the state before and after.
 */
export function cardPasswordStateChanged(
  change: { cardId: string; personId: string | null; kind: "LOCKED" | "RESET" },
  states: { from: PasswordState | null; to: PasswordState },
  caller: Caller,
  now: Date,
): NewEvent<"CardPasswordStateChanged"> {
  return {
    type: "CardPasswordStateChanged",
    payload: {
      cardId: change.cardId,
      personId: change.personId,
      change: change.kind,
      fromState: states.from,
      state: states.to,
    },
    actor: caller.sub,
    channel: caller.channel,
    occurredAt: now,
  };
}
