import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { CHANNELS, ERROR_CODES } from "@hub/kit";
import type { ExecutionResult, GraphQLError } from "graphql";
import type { GraphQLParams } from "graphql-yoga";
import { Counter, Histogram, type Registry } from "prom-client";
import type { PersistedDocument } from "../persisted-documents.js";
import { callerOf } from "./auth.plugin.js";

/** The label of an operation that is not one of the gateway's known documents, and of a code outside the known ones. */
export const OTHER = "other";
/** The channel label of a request whose caller is not known (no valid token). */
export const NO_CHANNEL = "none";

/**
 * The codes a label may take: the contract's, the GraphQL request codes the error masker keeps,
 * and the transport's own for a subgraph call. Anything else is counted as `other`, so a subgraph
 * or a client cannot grow the label set.
 */
const KNOWN_CODES = new Set<string>([
  ...ERROR_CODES,
  "BAD_REQUEST",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "PERSISTED_QUERY_NOT_FOUND",
  "GATEWAY_TIMEOUT",
  "DOWNSTREAM_SERVICE_ERROR",
]);

/** Seconds: from a cached read (a few ms) to the upstream timeout (10 s by default). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function codeLabel(code: unknown): string {
  return typeof code === "string" && KNOWN_CODES.has(code) ? code : OTHER;
}

/** The distinct codes of a result's errors (a result with two errors of one code counts once). */
function codesOf(errors: readonly GraphQLError[] | undefined): Set<string> {
  const codes = new Set<string>();
  for (const error of errors ?? []) codes.add(codeLabel(error.extensions?.["code"]));
  return codes;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** The first operation named in a document's text (no parse: the label is checked against known names). */
const NAMED_OPERATION = /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/**
 * The `operation` label of a request: its operation's name when that is one of the gateway's
 * known documents (the contract's operations and the loaded manifests), `other` otherwise. A
 * client naming its operation freely cannot grow the label set.
 */
export function operationLabeller(
  documents: readonly PersistedDocument[],
): (params: GraphQLParams | undefined) => string {
  const names = new Set(documents.map((d) => d.name));
  const byHash = new Map(documents.map((d) => [d.hash, d.name]));
  return (params) => {
    if (!params) return OTHER;
    const persisted = (params.extensions?.["persistedQuery"] ?? undefined) as
      { sha256Hash?: unknown } | undefined;
    const documentId = (params as { documentId?: unknown }).documentId;
    const hash = typeof persisted?.sha256Hash === "string" ? persisted.sha256Hash : documentId;
    const name =
      (typeof params.operationName === "string" && params.operationName) ||
      (typeof hash === "string" ? byHash.get(hash) : undefined) ||
      (typeof params.query === "string" ? NAMED_OPERATION.exec(params.query)?.[1] : undefined);
    return name !== undefined && names.has(name) ? name : OTHER;
  };
}

export interface MetricsOptions {
  registry: Registry;
  /** The documents whose names label operations (the rest are `other`). */
  documents: readonly PersistedDocument[];
  /** Where Prometheus scrapes (server.ts checks its token first). */
  endpoint?: string;
}

interface GraphQLMetrics {
  requests: Counter<"operation" | "channel">;
  errors: Counter<"operation" | "channel" | "code">;
  duration: Histogram<"operation" | "channel">;
  fetchDuration: Histogram<"subgraph">;
  fetchErrors: Counter<"subgraph" | "code">;
}

const graphqlMetricsOf = new WeakMap<Registry, GraphQLMetrics>();

/**
 * The request metrics of a registry, made once (a registry refuses a name twice): the plugin,
 * however often the runtime asks for its plugins, and the server count into the same.
 */
function graphqlMetrics(registry: Registry): GraphQLMetrics {
  let metrics = graphqlMetricsOf.get(registry);
  if (metrics) return metrics;
  metrics = {
    requests: new Counter({
      name: "hub_graphql_requests_total",
      help: "GraphQL operations answered (each operation of a batch), by operation name and channel.",
      labelNames: ["operation", "channel"],
      registers: [registry],
    }),
    errors: new Counter({
      name: "hub_graphql_errors_total",
      help: "GraphQL operations answered with at least one error of this extensions.code, by operation name and channel.",
      labelNames: ["operation", "channel", "code"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "hub_graphql_request_duration_seconds",
      help: "Time from reading a GraphQL request to its answer (not for subscriptions), by operation name and channel.",
      labelNames: ["operation", "channel"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    fetchDuration: new Histogram({
      name: "hub_subgraph_fetch_duration_seconds",
      help: "Time of each subgraph fetch of a query plan (queries and mutations), by subgraph.",
      labelNames: ["subgraph"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    fetchErrors: new Counter({
      name: "hub_subgraph_fetch_errors_total",
      help: "Subgraph fetches answered with at least one error of this extensions.code (DOWNSTREAM_SERVICE_ERROR: unreachable or no GraphQL answer; GATEWAY_TIMEOUT: past HUB_UPSTREAM_TIMEOUT_MS), by subgraph.",
      labelNames: ["subgraph", "code"],
      registers: [registry],
    }),
  };
  // Every series a dashboard or an alert divides by exists from the start, at zero.
  for (const channel of [...CHANNELS, NO_CHANNEL])
    metrics.requests.inc({ operation: OTHER, channel }, 0);
  graphqlMetricsOf.set(registry, metrics);
  return metrics;
}

/**
 * Counts a request the gateway's server turns away before the GraphQL runtime reads it (at
 * capacity: SERVICE_UNAVAILABLE; a body without a length or too large: QUERY_TOO_COMPLEX) as an
 * operation answered with that code; its operation and caller are not known yet.
 */
export function refusalCounter(registry: Registry): (code: string) => void {
  const { requests, errors } = graphqlMetrics(registry);
  return (code) => {
    const labels = { operation: OTHER, channel: NO_CHANNEL };
    requests.inc(labels);
    errors.inc({ ...labels, code: codeLabel(code) });
  };
}

interface RequestRecord {
  started: number;
  /** The operations of the request as parsed (several for a batch), in the results' order. */
  params?: readonly GraphQLParams[];
}

/**
 * Prometheus at /metrics, on prom-client: per operation and channel, the operations answered,
 * the errors they carried by `extensions.code`, and their latency; per subgraph, the latency and
 * errors of each fetch. Every GraphQL answer is counted where the runtime hands it over for
 * serialisation, so the requests refused before execution (no token, rate limit, unknown
 * persisted document) are counted with their codes too, and the codes are the final (masked)
 * ones the client sees. Labels are bounded: operations by the known documents, channels by the
 * contract's list, codes by the contract's codes (docs/operations.md "Metrics").
 */
export function useMetrics(options: MetricsOptions): GatewayPlugin {
  const { registry } = options;
  const endpoint = options.endpoint ?? "/metrics";
  const operationOf = operationLabeller(options.documents);
  const { requests, errors, duration, fetchDuration, fetchErrors } = graphqlMetrics(registry);
  const records = new WeakMap<Request, RequestRecord>();

  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      return registry
        .metrics()
        .then((text) =>
          endResponse(
            new fetchAPI.Response(text, { headers: { "content-type": registry.contentType } }),
          ),
        );
    },
    onRequestParse({ request }) {
      const record: RequestRecord = { started: performance.now() };
      records.set(request, record);
      return {
        onRequestParseDone({ requestParserResult }) {
          record.params = Array.isArray(requestParserResult)
            ? requestParserResult
            : [requestParserResult];
        },
      };
    },
    onResultProcess({ request, result }) {
      const record = records.get(request);
      const channel = callerOf(request)?.channel ?? NO_CHANNEL;
      const seconds = record ? (performance.now() - record.started) / 1000 : null;
      const results = Array.isArray(result) ? result : [result];
      results.forEach((one: ExecutionResult | AsyncIterable<unknown>, i) => {
        const labels = { operation: operationOf(record?.params?.[i]), channel };
        requests.inc(labels);
        // A subscription's answer is a stream: its length is not a latency.
        if (isAsyncIterable(one)) return;
        if (seconds !== null) duration.observe(labels, seconds);
        for (const code of codesOf(one.errors)) errors.inc({ ...labels, code });
      });
    },
    onSubgraphExecute({ subgraphName, executionRequest }) {
      if (executionRequest.operationType === "subscription") return;
      const started = performance.now();
      return ({ result }) => {
        fetchDuration.observe({ subgraph: subgraphName }, (performance.now() - started) / 1000);
        if (isAsyncIterable(result)) return;
        for (const code of codesOf(result.errors))
          fetchErrors.inc({ subgraph: subgraphName, code });
      };
    },
  };
}
