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
