/**
 * Races of password entries (R-PWD-3, R-PWD-4): whether concurrent answers could have come from
 * the rules applied one entry at a time.
 */

/** One entry of a race: whether it was the right password, and what it was answered. */
export interface Entry {
  correct: boolean;
  result: string;
  attemptsLeft: number;
}

/**
 * Whether some one-at-a-time order of `entries`, starting from `failedBefore` consecutive wrong
 * entries, gives every entry the answer it got and ends in the stored state `final`. The rules
 * one entry at a time (R-PWD-3, R-PWD-4): a wrong entry counts, and the one that reaches `lockAt`
 * locks (answered LOCKED, attempts left 0); a correct entry clears the count (OK, `lockAt` left);
 * once locked, every entry is LOCKED and the count stays.
 */
export function serialisable(
  entries: readonly Entry[],
  lockAt: number,
  failedBefore: number,
  final: { failedAttempts: number; locked: boolean },
): boolean {
  const fits = (order: readonly number[]): boolean => {
    let failed = failedBefore;
    let locked = false;
    for (const index of order) {
      const entry = entries[index]!;
      let result: string;
      let left: number;
      if (locked) [result, left] = ["LOCKED", 0];
      else if (entry.correct) [failed, result, left] = [0, "OK", lockAt];
      else {
        failed += 1;
        locked = failed >= lockAt;
        [result, left] = locked ? ["LOCKED", 0] : ["WRONG", lockAt - failed];
      }
      if (result !== entry.result || left !== entry.attemptsLeft) return false;
    }
    return failed === final.failedAttempts && locked === final.locked;
  };
  const orders = (rest: number[]): number[][] =>
    rest.length <= 1
      ? [rest]
      : rest.flatMap((first, i) =>
          orders([...rest.slice(0, i), ...rest.slice(i + 1)]).map((tail) => [first, ...tail]),
        );
  return orders(entries.map((_, i) => i)).some(fits);
}

/** The attempts left that a race's WRONG answers named, in order: each count once when serialised. */
export function attemptsLeftOfWrong(
  verdicts: readonly { result: string; attemptsLeft: number }[],
): number[] {
  return verdicts
    .filter((v) => v.result === "WRONG")
    .map((v) => v.attemptsLeft)
    .sort();
}
