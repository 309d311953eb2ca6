/**
 * Test support: a card's announced history as the cards subgraph's state machine
 * (cards/rules/state-machine.ts) can produce it, for the bank's property tests.
 */

/** One version of the card as the cards subgraph announces it. */
export interface CardVersion {
  version: number;
  status: string;
  /** The change that led to this version; null for the issue (CardIssued). */
  change: string | null;
  fromStatus: string | null;
}

const IN_USE = new Set(["ARCHIVED", "NORMAL"]);

/**
 * Issued ARCHIVED (or NORMAL, issued instantly at a counter), then status changes until it is
 * cancelled (R-CARD-10): each pick chooses among the moves the state machine allows from the
 * current status (below 12: cancelled or replaced, so histories run longer). `gap`: a change the
 * bank is not told of (a collection) took a version in between.
 */
export function cardHistory(
  instant: boolean,
  picks: readonly { p: number; gap: boolean }[],
): CardVersion[] {
  let status = instant ? "NORMAL" : "ARCHIVED";
  let enabled = instant;
  let version = 1;
  const history: CardVersion[] = [{ version, status, change: null, fromStatus: null }];
  for (const { p, gap } of picks) {
    if (status === "CANCELLED") break;
    const moves: [string, string][] = [];
    if (status === "ARCHIVED") moves.push(["SOCIAL_FUNCTION_ENABLED", "NORMAL"]);
    if (IN_USE.has(status)) moves.push(["LOSS_REPORTED_TEMPORARY", "TEMPORARY_LOSS"]);
    if (status !== "LOST") moves.push(["LOSS_REPORTED_FORMAL", "LOST"]);
    if (!IN_USE.has(status)) moves.push(["LOSS_REPORT_WITHDRAWN", enabled ? "NORMAL" : "ARCHIVED"]);
    const [change, to] =
      p < 12 ? [p % 2 === 0 ? "CANCELLED" : "REPLACED", "CANCELLED"] : moves[p % moves.length]!;
    if (to === "NORMAL") enabled = true;
    version += gap ? 2 : 1;
    history.push({ version, status: to, change, fromStatus: status });
    status = to;
  }
  return history;
}
