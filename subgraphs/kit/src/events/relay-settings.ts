import type { Logger } from "../logger.js";
import { DEFAULT_EVENT_MAX_ATTEMPTS } from "../settings/subgraph-env.js";
import type { Outbox } from "./outbox.js";

export interface RelayOptions {
  outbox: Outbox;
  /** Where a destination subgraph receives events (its `/events` URL); undefined while unknown. */
  target: (destination: string) => string | undefined;
  /** A fresh service token for the destination to verify. */
  serviceToken: () => Promise<string>;
  logger: Logger;
  /**
   * How often the relay looks for work it was not woken for: events committed by another replica
   * whose relay died, and retries after a backoff. Commits in this process wake it at once.
   */
  pollMs?: number;
  /** How long a silent owner keeps a destination's lane before another replica may take it. */
  leaseMs?: number;
  /** Cap of the exponential retry backoff. */
  maxBackoffMs?: number;
  deliveryTimeoutMs?: number;
  /** Events sent in one delivery (one HTTP call). */
  batchSize?: number;
  /** What a receiver may spend delivering its own effects before it answers (HUB_EFFECT_WAIT_MS / 2). */
  downstreamBudgetMs?: number;
  /** Failed applications of one event before it is dead-lettered (HUB_EVENT_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Told of each lane's deliveries, failed deliveries and dead letters as they happen (metrics). */
  metrics?: RelayMetrics;
}

/** What the relay tells as it delivers, per lane (the receiving subgraph): the subgraph's metrics. */
export interface RelayMetrics {
  delivered(lane: string, events: number): void;
  /** A delivery failed (the receiver down or refusing, or failing to apply an event): retried after a backoff. */
  failed(lane: string): void;
  deadLettered(lane: string): void;
}

/** The relay's timings and sizes, defaults filled in (relaySettings). */
export type RelaySettings = ReturnType<typeof relaySettings>;

/**
 * The relay's timings and sizes, defaults filled in. Exported for its tests: a wrong default
 * (a poll interval, a delivery timeout) shows only as timing otherwise.
 */
export function relaySettings(
  options: Pick<
    RelayOptions,
    | "pollMs"
    | "leaseMs"
    | "maxBackoffMs"
    | "batchSize"
    | "deliveryTimeoutMs"
    | "downstreamBudgetMs"
    | "maxAttempts"
  >,
) {
  const leaseMs = options.leaseMs ?? 8_000;
  return {
    pollMs: options.pollMs ?? 500,
    leaseMs,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    batchSize: options.batchSize ?? 100,
    // A delivery ends within a lease of the last confirmation (LaneLeases).
    deliveryTimeoutMs: Math.min(options.deliveryTimeoutMs ?? leaseMs / 2, (leaseMs * 3) / 4),
    downstreamBudgetMs: options.downstreamBudgetMs ?? 1_500,
    maxAttempts: options.maxAttempts ?? DEFAULT_EVENT_MAX_ATTEMPTS,
  };
}

/**
 * How long a lane waits after its `attempts`-th failed delivery in a row: 400 ms doubling up to
 * `maxBackoffMs`, give or take a fifth (`random` in [0, 1)). Exported for its tests: the jitter
 * hides the formula from any test of the relay as a whole.
 */
export function backoffFor(attempts: number, maxBackoffMs: number, random = Math.random()): number {
  // Jitter: replicas retrying one receiver do not come back in step.
  return Math.min(maxBackoffMs, 200 * 2 ** Math.min(attempts, 10)) * (0.8 + random * 0.4);
}
