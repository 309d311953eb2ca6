import { describe, expect, it } from "vitest";
import { CardStatus } from "../model/enums.js";
import { statusNote } from "./status-note.js";

describe("R-CARD-6: status notes say contributions are unaffected and never say blocked", () => {
  it.each(Object.values(CardStatus))("%s", (status) => {
    for (const collected of [true, false]) {
      const note = statusNote(status, collected);
      expect(note).toMatch(/Contributions are paid and recorded as usual/);
      expect(note.toLowerCase()).not.toMatch(/block|frozen|suspend/);
    }
  });
});

describe("R-CARD-6: each status note says what the holder can do", () => {
  it("an archived card's note says whether it has been collected", () => {
    expect(statusNote("ARCHIVED", true)).toMatch(
      /^The card has been collected but its social security function is not enabled yet/,
    );
    expect(statusNote("ARCHIVED", false)).toMatch(
      /^The card is issued and waiting to be collected/,
    );
  });
  it("every other status has its own note, collected or not", () => {
    const expected = {
      NORMAL: /^The card is in normal use\. /,
      TEMPORARY_LOSS:
        /^The card is temporarily reported lost; withdraw the report or formally report the loss at a counter\. /,
      LOST: /^The card is formally reported lost; withdraw the report if it is found, or apply for a replacement\. /,
      CANCELLED: /^The card is cancelled and can no longer be used\. /,
      EXPIRED: /^The card is past its 10-year validity; apply for a replacement\. /,
    } as const;
    for (const [status, note] of Object.entries(expected))
      for (const collected of [true, false])
        expect(statusNote(status as keyof typeof expected, collected)).toMatch(note);
    expect(statusNote("NORMAL", true)).toBe(
      "The card is in normal use. Contributions are paid and recorded as usual whatever the card's status.",
    );
  });
});
