import type { GraphQLSchema } from "graphql";
import { systemClock, type Clock } from "../clock.js";
import { Inbox, type EventHandlers } from "../events/inbox.js";
import type { Outbox } from "../events/outbox.js";
import { startOutboxRelay, withRelay } from "../events/relay.js";
import { startRetentionSweep, type RetainedCollection } from "../mongo/retention.js";
import type { HubContext } from "../graphql/context.js";
import type { SubgraphDeps } from "./subgraph-main.js";
import {
  ConfigError,
  DEFAULT_EFFECT_WAIT_MS,
  DEFAULT_RETENTION_HOURS,
} from "../settings/subgraph-env.js";
import { SUBGRAPHS, type SubgraphName } from "../settings/subgraph-urls.js";
import type { StreamEndpointFactory } from "./streams.js";
import { startSubgraphServer, type RunningServer } from "./subgraph-server.js";
import { laneStats, subgraphMetrics } from "./subgraph-metrics.js";

export interface HubSubgraphSpec<TContext extends HubContext, S extends SubgraphName> {
  name: S;
  deps: SubgraphDeps;
  schema: GraphQLSchema;
  /** The subgraph's outbox; its relay starts and stops with the server. */
  outbox: Outbox;
  isReady: () => Promise<boolean>;
  /** Collections of this subgraph's own kept for a period, swept with the idempotency records. */
  retained?: RetainedCollection[];
  /** Events from other subgraphs this one applies (POST /events). */
  handlers?: EventHandlers<S>;
  /** The subgraph's own part of each request's context (fresh DataLoaders, services). */
  context: (now: Clock) => Omit<TContext, keyof HubContext>;
  /** Subscriptions served beside /graphql (kit server/streams.ts); none when absent. */
  subscriptions?: StreamEndpointFactory<TContext>;
  /** The subgraph's own Prometheus metrics, served at GET /metrics after the kit's (subgraph-metrics.ts). */
  metrics?: () => Promise<string>;
}

/**
 * The wiring every subgraph shares: its outbox relay, its inbox, and a request context whose
 * clock is fixed per request, so every derived status in one answer agrees.
 */
export async function startHubSubgraph<TContext extends HubContext, S extends SubgraphName>(
  spec: HubSubgraphSpec<TContext, S>,
): Promise<RunningServer> {
  const { deps } = spec;
  const unreachable = spec.outbox.destinations.filter((d) => !deps.events.target(d));
  if (unreachable.length > 0)
    throw new ConfigError(
      `Invalid configuration: ${unreachable
        .map(
          (d) =>
            `${SUBGRAPHS[d].urlVariable}: no address for the ${d} subgraph, which ${spec.name} sends events to`,
        )
        .join("; ")}`,
    );
  const inbox = spec.handlers ? new Inbox(spec.name, spec.handlers, deps.db) : undefined;
  await spec.outbox.ensureIndexes();
  await inbox?.ensureIndexes();
  const effectWaitMs = deps.events.effectWaitMs ?? DEFAULT_EFFECT_WAIT_MS;
  // Idempotency records of multi-document mutations are kept for a day (HUB_RETENTION_HOURS):
  // long enough for any replay a channel makes, short enough to keep writes fast. (Single-document
  // mutations and received events keep theirs inside the document they changed.)
  const keepMs = deps.retentionMs ?? DEFAULT_RETENTION_HOURS * 3_600_000;
  const retention = startRetentionSweep(
    [
      { collection: deps.db.collection("idempotency_keys"), field: "createdAt", keepMs },
      ...(spec.retained ?? []),
    ],
    deps.logger,
  );
  const metrics = subgraphMetrics({ lanes: spec.outbox.destinations, own: spec.metrics });
  const relay = startOutboxRelay({
    outbox: spec.outbox,
    target: deps.events.target,
    serviceToken: deps.events.serviceToken,
    pollMs: deps.events.pollMs,
    maxAttempts: deps.events.maxAttempts,
    downstreamBudgetMs: Math.floor(effectWaitMs / 2),
    logger: deps.logger,
    metrics: metrics.relay,
  });
  const clock = deps.clock ?? systemClock;
  const server = await startSubgraphServer<TContext>({
    name: spec.name,
    schema: spec.schema,
    port: deps.port,
    host: deps.host,
    verifier: deps.verifier,
    eventVerifier: deps.eventVerifier,
    logger: deps.logger,
    isReady: spec.isReady,
    outboxStats: async () => ({
      ...(await relay.stats()),
      lanes: await laneStats(spec.outbox, relay.deadLetters.collection),
    }),
    dbStats: deps.dbStats,
    inbox,
    effectWaitMs,
    subscriptions: spec.subscriptions,
    metrics: metrics.text,
    createContext: (caller, requestId, effects) => {
      const at = clock();
      const now = () => at;
      // The spread is exactly HubContext plus the subgraph's part, which TypeScript cannot prove for a generic.
      return { caller, requestId, now, effects, ...spec.context(now) } as TContext;
    },
  });
  const running = withRelay(server, relay);
  return {
    ...running,
    async stop() {
      retention.stop();
      await running.stop();
    },
  };
}
