import { siblingUrl } from "@hub/kit";
import { Gauge, type Registry } from "prom-client";

interface SubgraphState {
  subgraph: string;
  ready: boolean;
  outbox: OutboxAnswer | null;
}

/** A subgraph's GET /outbox (kit hub-subgraph.ts): its relay's figures, per lane (destination). */
interface OutboxAnswer {
  pending: number;
  oldestPendingMs: number;
  deadLetters?: number;
  lanes?: {
    lane: string;
    pending: number;
    oldestPendingMs: number;
    deadLetters: number;
    failedDeliveries: number;
  }[];
}

/**
 * Each subgraph's state, read from its GET /readyz and GET /outbox when Prometheus scrapes (once
 * per scrape, whichever gauge asks first): whether it is up, and its outbox per lane, so a subgraph
 * down or a stuck queue shows on the gateway's /metrics. The outbox figures are read from the
 * subgraph's database, the same whichever replica answers: every gateway shows the same.
 */
export function subgraphGauges(registry: Registry, directory: Record<string, string>): void {
  let reading: Promise<SubgraphState[]> | null = null;
  const read = async (): Promise<SubgraphState[]> =>
    Promise.all(
      Object.entries(directory).map(async ([subgraph, url]) => {
        const get = (path: string) =>
          fetch(siblingUrl(url, path), { signal: AbortSignal.timeout(1_500) });
        const [ready, outbox] = await Promise.all([
          get("/readyz").then(
            (response) => response.ok,
            () => false,
          ),
          get("/outbox").then(
            async (response) => (response.ok ? ((await response.json()) as OutboxAnswer) : null),
            () => null,
          ),
        ]);
        return { subgraph, ready, outbox };
      }),
    );
  // Shared by the gauges of one scrape: while it runs, and for a second after.
  const states = () =>
    (reading ??= read().finally(() => {
      setTimeout(() => (reading = null), 1_000).unref();
    }));
  const perLane = (
    name: string,
    help: string,
    value: (lane: NonNullable<OutboxAnswer["lanes"]>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["subgraph", "lane"],
      registers: [registry],
      async collect() {
        // Only what this scrape read: a subgraph that did not answer has no figures (not old ones).
        this.reset();
        for (const { subgraph, outbox } of await states())
          for (const lane of outbox?.lanes ?? [])
            this.set({ subgraph, lane: lane.lane }, value(lane));
      },
    });
  new Gauge({
    name: "hub_subgraph_up",
    help: "1 when the subgraph answered its readiness check (GET /readyz: it reaches its database) at this scrape, 0 otherwise.",
    labelNames: ["subgraph"],
    registers: [registry],
    async collect() {
      for (const { subgraph, ready } of await states()) this.set({ subgraph }, ready ? 1 : 0);
    },
  });
  perLane(
    "hub_outbox_pending",
    "Cross-subgraph events waiting for delivery, per producing subgraph and lane (receiving subgraph).",
    (lane) => lane.pending,
  );
  perLane(
    "hub_outbox_lag_seconds",
    "Age of the oldest undelivered cross-subgraph event (0 when none), per producing subgraph and lane.",
    (lane) => lane.oldestPendingMs / 1000,
  );
  perLane(
    "hub_event_dead_letters",
    "Events set aside after their receiver failed to apply them, per producing subgraph and lane (npm run events -- dead-letters).",
    (lane) => lane.deadLetters,
  );
  perLane(
    "hub_event_lane_failed_deliveries",
    "Failed deliveries in a row on a lane (0 once one succeeds): the relay is retrying with backoff.",
    (lane) => lane.failedDeliveries,
  );
}
