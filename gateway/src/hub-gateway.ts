import {
  createGatewayRuntime,
  type GatewayPlugin,
  type GatewayRuntime,
} from "@graphql-hive/gateway-runtime";
import { hasScope, SUBSCRIPTIONS_PATH, type Logger, type TokenVerifier } from "@hub/kit";
import { unifiedGraphHandler } from "@graphql-hive/router-runtime";
import { Registry } from "prom-client";
import type { PersistedDocument } from "./persisted-documents.js";
import { useMetrics } from "./plugins/metrics.plugin.js";
import { subgraphDirectory } from "./subgraph-directory.js";
import type { Redis } from "ioredis";
import { redisPersistedQueryStore } from "./shared-store.js";
import { useIntrospectionPolicy } from "./plugins/introspection-policy.plugin.js";
import {
  DEFAULT_QUERY_LIMITS,
  useQueryLimits,
  type QueryLimits,
} from "./plugins/query-limits.plugin.js";
import { useRateLimit, type RateLimit } from "./plugins/rate-limit.plugin.js";
import { callerOf, useAuth, type AuthContext } from "./plugins/auth.plugin.js";
import { createErrorMasker } from "./error-masking.js";
import { useGraphQLOverHttp } from "./plugins/graphql-over-http.plugin.js";
import { usePendingEffects } from "./plugins/pending-effects.plugin.js";
import { useTokenExpiry } from "./plugins/token-expiry.plugin.js";
import { useTracing } from "./plugins/tracing.plugin.js";
import { subgraphGauges } from "./subgraph-gauges.js";
import { registerTraceContextMetric, tracingStarted } from "@hub/kit/tracing";
import {
  memoryPersistedQueryStore,
  usePersistedQueries,
  type PersistedQueryStore,
} from "./plugins/persisted-queries.plugin.js";
import { createSubgraphTransport } from "./transport/subgraph-transport.js";
import { eventsApart } from "./transport/subscription-stream.js";
import { sandboxOptions, type SandboxSettings } from "./sandbox/sandbox.js";

export interface HubGatewayOptions {
  /** Supergraph SDL (the checked-in schema/supergraph.graphql). */
  supergraphSdl: string;
  /** Subgraph name → URL, overriding the URLs written in the supergraph. */
  subgraphUrls?: Record<string, string>;
  verifier: TokenVerifier;
  logger: Logger;
  /** Per-subgraph fetch timeout in milliseconds. */
  upstreamTimeoutMs?: number;
  /** development: introspection for every token and field suggestions on. Default production. */
  mode?: "development" | "production";
  limits?: QueryLimits;
  rateLimit?: RateLimit;
  /** Trusted documents, by hash: the contract's operations and the manifests loaded. */
  persistedDocuments?: PersistedDocument[];
  /** Where automatic persisted queries are remembered (default: the shared store, or this process). */
  persistedQueryStore?: PersistedQueryStore;
  /** The store all replicas share (HUB_REDIS_URL): rate limit and automatic persisted queries. */
  sharedStore?: Redis;
  /** Channel tokens may only send registered documents; `schema:read` tokens may send any. */
  persistedOnly?: boolean;
  /** Prometheus registry for /metrics (one per gateway). */
  registry?: Registry;
  /** The analyst sandbox (GraphiQL at GET /graphql); off when absent. */
  sandbox?: SandboxSettings;
}

/** Per token subject: generous for a counter terminal, a brake on scripted abuse. */
export const DEFAULT_RATE_LIMIT: RateLimit = { points: 600, windowSeconds: 60 };

/**
 * The hub's gateway: Hive Gateway on the checked-in supergraph, with each cross-cutting concern a
 * named plugin or option here.
 */
export function createHubGateway(options: HubGatewayOptions): GatewayRuntime<AuthContext> {
  const development = options.mode === "development";
  const registry = options.registry ?? new Registry();
  registerTraceContextMetric(registry);
  subgraphGauges(registry, subgraphDirectory(options.supergraphSdl, options.subgraphUrls));
  const byHash = new Map((options.persistedDocuments ?? []).map((d) => [d.hash, d.document]));
  // Every subgraph streams its subscriptions, if it has any (the feed), over GraphQL over SSE at
  // SUBSCRIPTIONS_PATH beside its /graphql; the transport sends only subscriptions there.
  const transportEntries = Object.fromEntries(
    Object.entries(options.subgraphUrls ?? {}).map(([name, url]) => [
      name,
      { location: url, options: { subscriptions: { kind: "http", location: SUBSCRIPTIONS_PATH } } },
    ]),
  );
  return createGatewayRuntime<AuthContext>({
    supergraph: () => options.supergraphSdl,
    transportEntries,
    // The Rust planner; each subscription event as a message of its own (subscription-stream.ts).
    unifiedGraphHandler: eventsApart(unifiedGraphHandler),
    // Our own HTTP transport (transport/subgraph-transport.ts): it forwards the caller's token and
    // the request id, shares identical concurrent queries per caller, and owns the call deadline.
    transports: {
      http: createSubgraphTransport({
        timeoutMs: options.upstreamTimeoutMs ?? 10_000,
        identityHeaders: ["authorization"],
        traceHeaders: ["x-request-id"],
      }),
    },
    // Identical queries in flight at the same moment from the same token run once and share the
    // answer (the token alone decides what a caller may see; the request id must not split them).
    // Every request is still authenticated, rate-limited, validated, logged and counted.
    inboundInflightRequestDeduplication: {
      shouldIncludeHeader: (name: string) => name === "authorization",
    },
    // server.ts already settles the request id and answers with it; the transport forwards it.
    requestId: false,
    logging: false,
    landingPage: false,
    ...(options.sandbox ? sandboxOptions(options.sandbox) : { graphiql: false }),
    healthCheckEndpoint: "/healthz",
    readinessCheckEndpoint: "/readyz",
    // Subgraph names and URLs are internal: errors must not name them.
    subgraphErrors: { subgraphNameProp: false, errorCode: "DOWNSTREAM_SERVICE_ERROR" },
    maskedErrors: { maskError: createErrorMasker(options.logger) },
    // At most 5 operations in one batched request.
    batching: { limit: 5 },
    // Order matters: the caller is known before limits by caller apply.
    plugins: (context) => [
      // First: its request span holds everything the plugins after it do (tracing on only).
      ...(tracingStarted() ? useTracing() : []),
      useMetrics({ registry, documents: options.persistedDocuments ?? [] }),
      useGraphQLOverHttp(),
      usePersistedQueries({
        trusted: byHash,
        store:
          options.persistedQueryStore ??
          (options.sharedStore
            ? redisPersistedQueryStore(options.sharedStore)
            : memoryPersistedQueryStore()),
        trustedOnly: async (request) => {
          if (!options.persistedOnly) return false;
          // This check may run before the auth plugin: an invalid token is let through here so
          // that the auth plugin answers it with UNAUTHENTICATED.
          const caller =
            callerOf(request) ??
            (await options.verifier(request.headers.get("authorization")).catch(() => null));
          return caller !== null && !hasScope(caller, "schema:read");
        },
      }) as GatewayPlugin,
      useAuth(options.verifier) as GatewayPlugin,
      useTokenExpiry() as GatewayPlugin,
      useRateLimit(options.rateLimit ?? DEFAULT_RATE_LIMIT, options.sharedStore) as GatewayPlugin,
      useIntrospectionPolicy(development) as GatewayPlugin,
      usePendingEffects() as GatewayPlugin,
      ...(useQueryLimits(options.limits ?? DEFAULT_QUERY_LIMITS, development) as GatewayPlugin[]),
    ],
  });
}
