/** One invariant's verdict, as the chaos report lists it. */
export interface InvariantResult {
  name: string;
  ok: boolean;
  /** How many things were checked (cards, accounts, …) and how many broke the rule. */
  checked: number;
  violations: number;
  /** The first few violations, enough to start looking. */
  examples: unknown[];
  note?: string;
}

const EXAMPLES = 8;

/** The verdict on `name`: broken if anything violated it (the first few kept as examples). */
export function result(
  name: string,
  checked: number,
  violations: unknown[],
  note?: string,
): InvariantResult {
  return {
    name,
    ok: violations.length === 0,
    checked,
    violations: violations.length,
    examples: violations.slice(0, EXAMPLES),
    ...(note ? { note } : {}),
  };
}
