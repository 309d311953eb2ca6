import { randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CARD_NUMBER_LETTERS,
  CARD_NUMBER_PATTERN,
  cardNumberKey,
  drawCardNumber,
} from "./card-number.js";

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
  it("draws its letter and its digits from the whole range given", () => {
    const letters = new Set<string>();
    for (let i = 0; i < CARD_NUMBER_LETTERS.length; i++)
      letters.add(
        drawCardNumber((below) => (below === CARD_NUMBER_LETTERS.length ? i : 4_718_233))[0]!,
      );
    expect([...letters].join("")).toBe("ABCDEFGHJKLMNPQRSTUVWXYZ");
    expect(drawCardNumber((below) => (below === 24 ? 9 : 4_718_233))).toBe("K04718233");
  });
  it("the pattern takes exactly one letter other than I and O followed by eight digits", () => {
    for (const ok of [
      "A00000000",
      "K04718233",
      "H12345678",
      "J12345678",
      "N12345678",
      "P12345678",
      "Z99999999",
    ])
      expect(ok).toMatch(CARD_NUMBER_PATTERN);
    for (const bad of [
      "I12345678",
      "O12345678",
      "a12345678",
      "K1234567",
      "K123456789",
      "1K2345678",
      "KK1234567",
      " K12345678",
      "K12345678 ",
      "K1234567X",
      "",
    ])
      expect(bad).not.toMatch(CARD_NUMBER_PATTERN);
  });
});

describe("card number reservations", () => {
  it("are keyed by province and printed number", () => {
    expect(cardNumberKey("44", "K04718233")).toBe("44:K04718233");
  });
});
