import type { CommandStatsSnapshot } from "@hub/kit";
import { round } from "./figures.js";

/**
 * What `npm run bench:writes` computes from what it measured: the commands and database time a
 * mutation cost each subgraph, and the write path's goals.
 */

/** What one mutation cost one subgraph. */
export interface SubgraphCost {
  requestCommands: number;
  relayCommands: number;
  dbMs: number;
  gateWaitMs: number;
  /** Count and milliseconds of each kind of command. */
  kinds: Record<string, [number, number]>;
}

export function costBetween(
  before: Record<string, CommandStatsSnapshot>,
  after: Record<string, CommandStatsSnapshot>,
): Record<string, SubgraphCost> {
  const result: Record<string, SubgraphCost> = {};
  for (const [name, now] of Object.entries(after)) {
    const then = before[name]!;
    const kinds: Record<string, [number, number]> = {};
    let relayCommands = 0;
    let dbMs = 0;
    for (const [kind, s] of Object.entries(now.byKind ?? {})) {
      // The relay's periodic look for work and the bench's own reading of the outboxes are not
      // the mutation's cost.
      if (kind.startsWith("poll: ") || kind.startsWith("observe: ")) continue;
      const count = s.count - (then.byKind?.[kind]?.count ?? 0);
      const ms = s.ms - (then.byKind?.[kind]?.ms ?? 0);
      dbMs += ms;
      if (count === 0) continue;
      kinds[kind] = [count, round(ms)];
      if (kind.startsWith("relay: ")) relayCommands += count;
    }
    const requestCommands = now.commands - then.commands;
    if (requestCommands + relayCommands === 0) continue;
    result[name] = {
      requestCommands,
      relayCommands,
      dbMs: Math.round(dbMs * 10) / 10,
      gateWaitMs: (now.gate?.waitMs ?? 0) - (then.gate?.waitMs ?? 0),
      kinds,
    };
  }
  return result;
}

/** A load run of the write bench. */
export interface LoadResult {
  seconds: number;
  mutations: number;
  mutationsPerSecond: number;
  cardMutation: { p50: number; p95: number; p99: number };
  allMutations: { p50: number; p95: number; p99: number };
  personCards: { p50: number; p95: number; requests: number };
  errors: Record<string, number>;
  /** CPU time each process spent per mutation (reads in the same run included: a small share). */
  cpuMsPerMutation: Record<string, number>;
  lag: { maxOldestPendingMs: number; maxPending: number; samples: number };
  drainedAfterMs: number | null;
}

/** Issue #15's goals, each with the figures it compares (ratios within this run). */
export function goalsFrom(results: Record<string, unknown>) {
  const goals: Record<string, unknown> = {};
  const s10 = results["scenario10"] as LoadResult | undefined;
  const s1 = results["scenario1"] as LoadResult | undefined;
  const sustained = results["sustained"] as LoadResult | undefined;
  const fresh = results["mixFresh"] as LoadResult | undefined;
  const aged = results["mixAged"] as LoadResult | undefined;
  if (s10)
    goals["10 clients: card mutation p95 ≤ 3× PersonCards p95"] = {
      ratio: round(s10.cardMutation.p95 / Math.max(0.1, s10.personCards.p95)),
      met: s10.cardMutation.p95 <= 3 * s10.personCards.p95,
    };
  if (s1)
    goals["1 client: card mutation p50 ≤ 2× PersonCards p50"] = {
      ratio: round(s1.cardMutation.p50 / Math.max(0.1, s1.personCards.p50)),
      met: s1.cardMutation.p50 <= 2 * s1.personCards.p50,
    };
  if (sustained)
    goals["sustained: oldestPendingMs < 1 s throughout; empty within 2 s after"] = {
      maxOldestPendingMs: sustained.lag.maxOldestPendingMs,
      drainedAfterMs: sustained.drainedAfterMs,
      met:
        sustained.lag.maxOldestPendingMs < 1_000 &&
        sustained.drainedAfterMs !== null &&
        sustained.drainedAfterMs <= 2_000,
    };
  if (fresh && aged)
    goals["ageing: mix p50 after 20,000 mutations ≤ 1.5× fresh"] = {
      ratio: round(aged.allMutations.p50 / Math.max(0.1, fresh.allMutations.p50)),
      met: aged.allMutations.p50 <= 1.5 * fresh.allMutations.p50,
    };
  return goals;
}
