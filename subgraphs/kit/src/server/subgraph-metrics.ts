import type { Collection } from "mongodb";
import { Counter, Registry } from "prom-client";
import { OBSERVE } from "../events/command-tags.js";
import type { DeadLetter } from "../events/dead-letters.js";
import type { LaneDocument } from "../events/lane-lease.js";
import type { Outbox } from "../events/outbox.js";
import type { RelayMetrics } from "../events/relay-settings.js";
import { registerTraceContextMetric } from "../tracing/context-metric.js";

/** One lane of a subgraph's outbox (the events for one receiving subgraph), as GET /outbox shows it. */
export interface LaneStats {
  lane: string;
  /** Events waiting for delivery. */
  pending: number;
  /** Age of the oldest of them in the database's time (0 when none). */
  oldestPendingMs: number;
  /** Events set aside after their receiver failed to apply them. */
  deadLetters: number;
  /** Failed deliveries in a row (the relay retries after a backoff); 0 once one succeeds. */
  failedDeliveries: number;
}

/**
 * Every lane of `outbox` (each destination it sends to, with or without pending events), read
 * from the database: every replica of the subgraph answers the same. The reads are tagged as
 * observation (OBSERVE), as the relay's own statistics are, so what a request costs is counted
 * apart from them.
 */
export async function laneStats(
  outbox: Outbox,
  deadLetters: Collection<DeadLetter>,
): Promise<LaneStats[]> {
  const events = outbox.events;
  const options = { comment: OBSERVE };
  const lanes = new Map(
    (
      await events.db
        .collection<LaneDocument>("outbox_lanes")
        .find({}, options)
        .project<Pick<LaneDocument, "_id" | "attempts">>({ attempts: 1 })
        .toArray()
    ).map((lane) => [lane._id, lane.attempts]),
  );
  const now = outbox.clock.nowMs();
  return Promise.all(
    outbox.destinations.map(async (destination) => {
      const [oldest, pending, dead] = await Promise.all([
        events
          .find({ destination }, options)
          .sort({ enqueuedAt: 1 })
          .limit(1)
          .project<{ enqueuedAt: Date }>({ enqueuedAt: 1 })
          .next(),
        events.countDocuments({ destination }, options),
        deadLetters.countDocuments({ destination }, options),
      ]);
      return {
        lane: destination,
        pending,
        oldestPendingMs: oldest ? Math.max(0, now - oldest.enqueuedAt.getTime()) : 0,
        deadLetters: dead,
        failedDeliveries: lanes.get(destination) ?? 0,
      };
    }),
  );
}

export interface SubgraphMetrics {
  /** The exposition served at GET /metrics. */
  text(): Promise<string>;
  relay: RelayMetrics;
}

/**
 * A subgraph process's Prometheus metrics: what its relay delivered, retried and set aside per lane, and whatever the subgraph adds (`own`, the
 * feed's streams). Per process: Prometheus scrapes every replica and sums them. The outbox's state
 * (pending, lag, dead letters) is the database's, the same for every replica: the gateway exports
 * it, from GET /outbox (gateway subgraph-gauges.ts).
 */
export function subgraphMetrics(options: {
  /** The lanes of the subgraph's outbox: their series exist from the start, at zero. */
  lanes: readonly string[];
  own?: () => Promise<string>;
}): SubgraphMetrics {
  const { own } = options;
  const registry = new Registry();
  registerTraceContextMetric(registry);
  const delivered = new Counter({
    name: "hub_events_delivered_total",
    help: "Events this process's relay delivered and its receiver applied, per lane (receiving subgraph).",
    labelNames: ["lane"],
    registers: [registry],
  });
  const failed = new Counter({
    name: "hub_event_delivery_failures_total",
    help: "Failed deliveries of this process's relay, each retried after a backoff, per lane.",
    labelNames: ["lane"],
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: "hub_events_dead_lettered_total",
    help: "Events this process's relay set aside after HUB_EVENT_MAX_ATTEMPTS failed applications, per lane.",
    labelNames: ["lane"],
    registers: [registry],
  });
  for (const lane of options.lanes)
    for (const counter of [delivered, failed, deadLettered]) counter.inc({ lane }, 0);
  return {
    async text() {
      const [mine, theirs] = await Promise.all([registry.metrics(), own?.() ?? ""]);
      // One sample a line, the last one ended too (prom-client's text may not end its own).
      const parts = [mine, theirs].map((text) => text.trimEnd()).filter((text) => text !== "");
      return parts.map((text) => `${text}\n`).join("");
    },
    relay: {
      delivered: (lane, events) => delivered.inc({ lane }, events),
      failed: (lane) => failed.inc({ lane }),
      deadLettered: (lane) => deadLettered.inc({ lane }),
    },
  };
}
