import type { Answer } from "./client.js";

/** Per operation, what its requests became. */
export interface OperationStats {
  requests: number;
  ok: number;
  partial: number;
  rejected: Record<string, number>;
  failed: Record<string, number>;
  /** Second tries of a failed keyed request (same idempotency key). */
  retries: number;
  /** Answers that listed effects still on their way (a receiver was down). */
  pendingEffects: number;
  /** Mean and worst time to an answer (or to the failure). */
  meanMs: number;
  maxMs: number;
}

/** A request that failed (or answered only in part), for the summary's timeline. */
export interface FailedRequest {
  atMs: number;
  client: number;
  operation: string;
  outcome: "failed" | "partial";
  code: string | null;
}

/**
 * Mutations that run a multi-document transaction today (the cards subgraph's replacement, the
 * passwords subgraph's changes and resets). On the embedded server a transaction's commit can
 * undo single-document writes made meanwhile to other documents of its collection, and a killed
 * replica holding the transaction lock blocks the others until its lease ends: their times help
 * to read a violation.
 */
const TRANSACTIONAL = new Set(["ReplaceCard", "ChangeCardPassword", "ResetCardPassword"]);

/** When a transactional mutation was sent and answered (ms since the start). */
export interface TimedRequest {
  fromMs: number;
  toMs: number;
  client: number;
  operation: string;
  outcome: string;
}

/**
 * What the clients learnt, to compare with the databases afterwards: per card, how many history
 * entries of each change type OK answers promise, and how many more lost answers allow.
 */
export class Ledger {
  readonly operations = new Map<string, OperationStats>();
  readonly failures: FailedRequest[] = [];
  readonly transactions: TimedRequest[] = [];
  /** Per card and change type: changes an answer confirmed (ok or partial). */
  readonly applied = new Map<string, Map<string, number>>();
  /** Per card and change type: changes whose answer was lost (applied or not, nobody knows). */
  readonly unknown = new Map<string, Map<string, number>>();
  /** IssueCard/ReplaceCard calls whose answer was lost: each may have created a card nobody knows. */
  unknownCreations = 0;
  /** Per card, what was asked of it and what came back (`CollectCard ok`), for the examples. */
  readonly trail = new Map<string, string[]>();

  private readonly answerMs = new Map<string, number>();

  constructor(readonly startedAt: number) {}

  note(client: number, operation: string, answer: Answer, retry: boolean): void {
    let stats = this.operations.get(operation);
    if (!stats) {
      stats = {
        requests: 0,
        ok: 0,
        partial: 0,
        rejected: {},
        failed: {},
        retries: 0,
        pendingEffects: 0,
        meanMs: 0,
        maxMs: 0,
      };
      this.operations.set(operation, stats);
    }
    stats.requests += 1;
    const total = (this.answerMs.get(operation) ?? 0) + answer.ms;
    this.answerMs.set(operation, total);
    stats.meanMs = Math.round(total / stats.requests);
    stats.maxMs = Math.max(stats.maxMs, answer.ms);
    if (retry) stats.retries += 1;
    if (answer.pendingEffects) stats.pendingEffects += 1;
    const code = answer.code ?? "none";
    if (answer.outcome === "ok") stats.ok += 1;
    else if (answer.outcome === "partial") stats.partial += 1;
    else if (answer.outcome === "rejected") stats.rejected[code] = (stats.rejected[code] ?? 0) + 1;
    else stats.failed[code] = (stats.failed[code] ?? 0) + 1;
    const toMs = Date.now() - this.startedAt;
    if (TRANSACTIONAL.has(operation))
      this.transactions.push({
        fromMs: toMs - answer.ms,
        toMs,
        client,
        operation,
        outcome: answer.outcome,
      });
    if (answer.outcome === "failed" || answer.outcome === "partial")
      this.failures.push({
        atMs: Date.now() - this.startedAt,
        client,
        operation,
        outcome: answer.outcome,
        code: answer.code,
      });
  }

  /** Records `type` on the card as the answer says: confirmed, unknown, or (rejected) nothing. */
  /** Notes a request about the card and its outcome in the card's trail. */
  tell(cardId: string, operation: string, answer: Answer): void {
    const trail = this.trail.get(cardId) ?? [];
    // When it was answered (ms since the start) and the card status the answer showed, to line up
    // with the history entries' times.
    const status = (answer.root?.["card"] as { status?: unknown } | undefined)?.status;
    trail.push(
      `${Date.now() - this.startedAt} ${operation} ${answer.outcome}` +
        (answer.code ? ` ${answer.code}` : "") +
        (typeof status === "string" ? ` → ${status}` : ""),
    );
    this.trail.set(cardId, trail);
  }

  record(cardId: string, type: string, answer: Answer): void {
    if (answer.outcome === "ok" || answer.outcome === "partial") bump(this.applied, cardId, type);
    else if (answer.outcome === "failed") bump(this.unknown, cardId, type);
  }

  knows(cardId: string): boolean {
    return this.applied.has(cardId) || this.unknown.has(cardId);
  }

  totals(): { requests: number; ok: number; partial: number; rejected: number; failed: number } {
    const totals = { requests: 0, ok: 0, partial: 0, rejected: 0, failed: 0 };
    for (const stats of this.operations.values()) {
      totals.requests += stats.requests;
      totals.ok += stats.ok;
      totals.partial += stats.partial;
      totals.rejected += sum(stats.rejected);
      totals.failed += sum(stats.failed);
    }
    return totals;
  }
}

function bump(map: Map<string, Map<string, number>>, cardId: string, type: string): void {
  const byType = map.get(cardId) ?? new Map<string, number>();
  byType.set(type, (byType.get(type) ?? 0) + 1);
  map.set(cardId, byType);
}

export function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
