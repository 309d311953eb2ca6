import usePrometheus from "@graphql-mesh/plugin-prometheus";
import type { GatewayConfigContext, GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { Counter, Gauge, type Registry } from "prom-client";
import { siblingUrl } from "@hub/kit";

/** Counts every error a client receives, by its final (masked) code. */
export function errorCounter(registry: Registry): Counter<"code"> {
  return new Counter({
    name: "hub_errors_total",
    help: "Errors returned to clients, by extensions.code.",
    labelNames: ["code"],
    registers: [registry],
  });
}

/**
 * Outbox figures of every subgraph (pending events, age of the oldest): read from each subgraph's
 * GET /outbox when Prometheus scrapes, so a stuck queue shows on the gateway's dashboard.
 */
export function outboxGauges(registry: Registry, directory: Record<string, string>): void {
  const read = async () =>
    Promise.all(
      Object.entries(directory).map(async ([subgraph, url]) => {
        try {
          const response = await fetch(siblingUrl(url, "/outbox"), {
            signal: AbortSignal.timeout(1_000),
          });
          return {
            subgraph,
            stats: (await response.json()) as {
              pending: number;
              oldestPendingMs: number;
              deadLetters?: number;
            },
          };
        } catch {
          return { subgraph, stats: null };
        }
      }),
    );
  new Gauge({
    name: "hub_outbox_pending",
    help: "Cross-subgraph events waiting for delivery, per producing subgraph.",
    labelNames: ["subgraph"],
    registers: [registry],
    async collect() {
      for (const { subgraph, stats } of await read())
        if (stats) this.set({ subgraph }, stats.pending);
    },
  });
  new Gauge({
    name: "hub_outbox_lag_seconds",
    help: "Age of the oldest undelivered cross-subgraph event, per producing subgraph.",
    labelNames: ["subgraph"],
    registers: [registry],
    async collect() {
      for (const { subgraph, stats } of await read())
        if (stats) this.set({ subgraph }, stats.oldestPendingMs / 1000);
    },
  });
  new Gauge({
    name: "hub_event_dead_letters",
    help: "Events set aside after their receiver failed to apply them, per producing subgraph (npm run events -- dead-letters).",
    labelNames: ["subgraph"],
    registers: [registry],
    async collect() {
      for (const { subgraph, stats } of await read())
        if (stats) this.set({ subgraph }, stats.deadLetters ?? 0);
    },
  });
}

/**
 * Prometheus at /metrics: requests, latency histograms per operation, per-subgraph fetch latency
 * and errors (Hive's plugin), plus the hub's error and outbox metrics. Our own registry, because
 * the plugin clears the global one when disposed.
 */
export function useHubMetrics(context: GatewayConfigContext, registry: Registry): GatewayPlugin {
  return usePrometheus({
    ...context,
    registry,
    endpoint: "/metrics",
    // Every metric the plugin does not get `false` for is on by default, and each costs CPU on
    // every request (a profile put the plugin at ~6% of the gateway's CPU, with a quantile summary
    // and a deprecated-field walk of each document among them). Kept: latency per operation (its
    // _count counts requests), errors, and latency and errors per subgraph.
    metrics: {
      graphql_envelop_request_duration: true,
      graphql_envelop_error_result: true,
      graphql_gateway_subgraph_execute_duration: true,
      graphql_gateway_subgraph_execute_errors: true,
      graphql_envelop_request: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_execute_resolver: false,
      graphql_envelop_schema_change: false,
      graphql_yoga_http_duration: false,
      graphql_gateway_fetch_duration: false,
    },
  } as Parameters<typeof usePrometheus>[0]) as GatewayPlugin;
}
