import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { checkPastDate, EARLIEST_CARD_DATE } from "./dates.js";

const now = new Date("2026-11-25T12:00:00Z");

function refusal(value: Date): HubError | null {
  try {
    checkPastDate("collectedAt", value, now);
    return null;
  } catch (error) {
    if (error instanceof HubError) return error;
    throw error;
  }
}

describe("a date a channel reports for something that already happened", () => {
  it("may be now, or any time back to 1999-01-01", () => {
    expect(EARLIEST_CARD_DATE.toISOString()).toBe("1999-01-01T00:00:00.000Z");
    for (const ok of [now, new Date("1999-01-01T00:00:00Z"), new Date("2010-06-01T00:00:00Z")])
      expect(refusal(ok)).toBeNull();
  });

  it("is refused in the future, even by a millisecond, naming the field", () => {
    const error = refusal(new Date(now.getTime() + 1));
    expect(error?.code).toBe("BAD_USER_INPUT");
    expect(error?.message).toBe("collectedAt lies in the future.");
    expect(error?.extensions["field"]).toBe("collectedAt");
  });

  it("is refused before the first cards were issued, saying when that was", () => {
    const error = refusal(new Date(EARLIEST_CARD_DATE.getTime() - 1));
    expect(error?.code).toBe("BAD_USER_INPUT");
    expect(error?.message).toBe(
      "collectedAt lies before 1999-01-01, when the first cards were issued.",
    );
    expect(error?.extensions["field"]).toBe("collectedAt");
  });
});
