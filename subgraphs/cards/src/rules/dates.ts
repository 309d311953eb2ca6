import { HubError } from "@hub/kit";

/** The earliest date a card event can carry: social security cards were first issued in 1999. */
export const EARLIEST_CARD_DATE = new Date("1999-01-01T00:00:00Z");

/**
 * A date a channel reports for something that already happened (issued, collected): not in the
 * future, and not before the first cards were issued. The hub's decision where the seeds are
 * silent: 1999-01-01 is the lower bound.
 */
export function checkPastDate(field: string, value: Date, now: Date): void {
  if (value.getTime() > now.getTime())
    throw new HubError("BAD_USER_INPUT", `${field} lies in the future.`, { field });
  if (value.getTime() < EARLIEST_CARD_DATE.getTime())
    throw new HubError(
      "BAD_USER_INPUT",
      `${field} lies before ${EARLIEST_CARD_DATE.toISOString().slice(0, 10)}, when the first cards were issued.`,
      { field },
    );
}
