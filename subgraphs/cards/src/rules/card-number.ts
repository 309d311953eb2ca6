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

/** How many numbers one card draws before the hub gives up (each draw is checked as unused). */
export const CARD_NUMBER_DRAWS = 5;

/**
 * The key that makes a printed number unique within its province: the `_id` of its reservation
 * in `card_numbers`, so the reservation's insert is the uniqueness check (docs/scale.md: a sharded
 * collection enforces uniqueness only on its shard key, and `cards` is sharded by person).
 */
export function cardNumberKey(province: string, number: string): string {
  return `${province}:${number}`;
}
