import { randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CARD_NUMBER_PATTERN, drawCardNumber } from "./card-number.js";

describe("card numbers", () => {
  it("are one letter (never I or O) and eight digits, zero-padded", () => {
    expect(drawCardNumber(() => 0)).toBe("A00000000");
    expect(drawCardNumber((below) => below - 1)).toBe("Z99999999");
    for (let i = 0; i < 1_000; i++) {
      const number = drawCardNumber(randomInt);
      expect(number).toMatch(CARD_NUMBER_PATTERN);
      expect(number).not.toMatch(/^[IO]/);
    }
  });
});
