/** Letters printed before a card's digits: I and O are left out, they read as 1 and 0. */
export const CARD_NUMBER_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ";

/** A card's printed number: one letter and eight digits, e.g. `K04718233`. */
export const CARD_NUMBER_PATTERN = /^[A-HJ-NP-Z]\d{8}$/;

/**
 * Draws a card number. `randomInt(n)` must return an integer in [0, n); a card number is not a
 * secret, but it must not be guessable from the previous one, so the subgraph passes crypto's.
 */
export function drawCardNumber(randomInt: (below: number) => number): string {
  const letter = CARD_NUMBER_LETTERS[randomInt(CARD_NUMBER_LETTERS.length)];
  return `${letter}${String(randomInt(100_000_000)).padStart(8, "0")}`;
}
