import type { IncomingMessage } from "node:http";
import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { useOpenTelemetry } from "@graphql-hive/plugin-opentelemetry";
import { QueryPlanner, type PlanNode } from "@graphql-hive/router-query-planner";
import { spanning } from "@hub/kit/tracing";
import { context, trace, type Context } from "@opentelemetry/api";

/** The trace of each client request, by the Node request its log line is written for. */
const traceOfRequest = new WeakMap<object, TraceFields>();

/** Whether each client request's span is sampled, by its Node request (the GraphQL context's). */
const sampledRequests = new WeakMap<object, boolean>();

/** What a log line names its trace by (as the kit's logger does inside a span). */
type TraceFields = { trace_id: string; span_id: string; trace_flags: string };

/**
 * The trace and span of the gateway's span for `request` (its `POST /graphql`), for the request's
 * log line (server.ts), which is written once the answer has left, outside that span; empty when
 * tracing is off or the request was not traced.
 */
export function requestTraceFields(request: IncomingMessage): TraceFields | Record<string, never> {
  return traceOfRequest.get(request) ?? {};
}

/** How many subgraph fetches a plan makes (an attribute of its span). */
function fetchesIn(node: PlanNode | undefined): number {
  if (!node) return 0;
  switch (node.kind) {
    case "Fetch":
    case "BatchFetch":
      return 1;
    case "Sequence":
    case "Parallel":
      return node.nodes.reduce((sum, child) => sum + fetchesIn(child), 0);
    case "Flatten":
      return fetchesIn(node.node);
    case "Condition":
      return fetchesIn(node.ifClause) + fetchesIn(node.elseClause);
    case "Subscription":
      return fetchesIn(node.primary);
    case "Defer":
      return (
        fetchesIn(node.primary.node) +
        node.deferred.reduce((sum, deferred) => sum + fetchesIn(deferred.node), 0)
      );
    default:
      return 0;
  }
}

/**
 * The Node request a hook's payload belongs to, wherever the payload keeps it: the server context
 * (request hooks), the GraphQL context (operation phases), the execution arguments, a subgraph
 * call's request.
 */
function nodeRequestOf(payload: unknown): object | undefined {
  const p = payload as {
    serverContext?: { req?: object };
    context?: { req?: object };
    args?: { contextValue?: { req?: object } };
    executionRequest?: { context?: { req?: object } };
  };
  return (
    p.serverContext?.req ??
    p.context?.req ??
    p.args?.contextValue?.req ??
    p.executionRequest?.context?.req
  );
}

/** The plugin's hooks that only ever add to a request's spans (skipped below one not sampled). */
const PER_REQUEST_HOOKS = [
  "onRequest",
  "onEnveloped",
  "onParams",
  "onParse",
  "onValidate",
  "onExecute",
  "onExecutionResult",
  "onSubgraphExecute",
  "onFetch",
  "onResponse",
];
const PER_REQUEST_INSTRUMENTATION = [
  "operation",
  "context",
  "parse",
  "validate",
  "execute",
  "subgraphExecute",
  "fetch",
];

/**
 * Hive's plugin, called for a request only when the request's span is sampled. Its request
 * instrumentation (which makes that span: the sampler's decision) always runs; every other hook of
 * a request found not sampled is skipped: each call of one costs the plugin a copy of the payload
 * and a state object built property by property (0.1–0.2 ms of the gateway's CPU per request,
 * `npm run profile`), for spans that would be dropped. A payload whose request is not known runs
 * the hook as before.
 */
function onlyWhenSampled<P extends object>(
  plugin: P,
  notSampled: (payload: unknown) => boolean,
): P {
  const hooks = plugin as unknown as Record<string, unknown>;
  const gated: Record<string, unknown> = {};
  for (const name of PER_REQUEST_HOOKS) {
    const hook = hooks[name];
    if (typeof hook !== "function") continue;
    gated[name] = (payload: unknown, ...rest: unknown[]) =>
      notSampled(payload) ? undefined : (hook as (...a: unknown[]) => unknown)(payload, ...rest);
  }
  const instrumentation = hooks["instrumentation"] as Record<string, unknown> | undefined;
  if (instrumentation) {
    const wrapped: Record<string, unknown> = { ...instrumentation };
    for (const name of PER_REQUEST_INSTRUMENTATION) {
      const step = instrumentation[name];
      if (typeof step !== "function") continue;
      wrapped[name] = (payload: unknown, next: () => unknown) =>
        notSampled(payload) ? next() : (step as (...a: unknown[]) => unknown)(payload, next);
    }
    gated["instrumentation"] = wrapped;
  }
  // Every other property as the plugin has it (its other hooks, `tracer` and its getters).
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(plugin)) as P;
  return Object.assign(copy, gated);
}

let plannerTraced = false;

/**
 * A `graphql.plan` span around the Rust query planner, which Hive's plugin does not trace: the
 * router runtime plans a document the first time it is executed (per operation name) and keeps
 * the plan, so the span shows in the trace of the request that planned it and a cached plan costs
 * nothing. The planner is reached through its class, the one the router runtime instantiates.
 */
function tracePlanner(): void {
  if (plannerTraced) return;
  plannerTraced = true;
  const tracer = trace.getTracer("hub-gateway");
  const planAsync = QueryPlanner.prototype.planAsync;
  QueryPlanner.prototype.planAsync = function (this: QueryPlanner, query, operationName, ...rest) {
    return tracer.startActiveSpan("graphql.plan", (span) => {
      if (operationName) span.setAttribute("graphql.operation.name", operationName);
      return spanning(span, async () => {
        const plan = await planAsync.call(this, query, operationName, ...rest);
        span.setAttribute("hub.plan.fetches", fetchesIn(plan.node));
        return plan;
      });
    });
  };
}

/**
 * Traces the gateway when tracing is on (kit tracing/start.ts registered the SDK): Hive Gateway's
 * OpenTelemetry plugin makes a span for the HTTP request, the GraphQL operation, its parse,
 * validate and execute, and each subgraph call (`subgraph.execute`); `graphql.plan` is ours (see
 * above). A `traceparent` from the client is followed. The plugin propagates the trace to
 * subgraphs through Hive's fetch, which the hub's own transport does not use: the transport adds
 * the header itself (transport/subgraph-transport.ts). A request that is not sampled gets its
 * request span only: the plugin's other hooks are skipped for it (`onlyWhenSampled`), and its
 * subgraph calls carry that span's `traceparent` ("not sampled"). docs/performance.md#tracing.
 */
export function useTracing(): GatewayPlugin[] {
  tracePlanner();
  /** The request's span when it is recorded (sampled); undefined otherwise. */
  const sampledRequest = (request: Request | undefined): Context | undefined => {
    const at = request && otel.getHttpContext(request);
    return at && trace.getSpan(at)?.isRecording() ? at : undefined;
  };
  const otel = useOpenTelemetry({
    traces: {
      spans: {
        // Only GraphQL requests: not liveness, readiness and metrics probes. (The server's parsed
        // URL when it has one, as the plugin's own span does.)
        http: ({ request }) => {
          const url =
            "parsedUrl" in request
              ? (request as Request & { parsedUrl: URL }).parsedUrl
              : new URL(request.url, "http://localhost");
          return url.pathname === "/graphql";
        },
        // The operation's spans (and every one below: parse, validate, execute, subgraph calls)
        // only in a sampled request. The sampler decides on the request's span; below one that is
        // not sampled the plugin would still make each span (dropped), computing its attributes
        // (the document printed, the operation found) and binding each phase to its context.
        graphql: ({ context: gqlContext }) => {
          const req = (gqlContext as { req?: object } | undefined)?.req;
          return (req && sampledRequests.get(req)) ?? true;
        },
        // Building the context is the auth plugin's token check, inside the operation span.
        graphqlContextBuilding: false,
      },
    },
    useContextManager: true,
    // No `hive.graphql.operation.hash` (for Hive Console, which the hub does not report to): the
    // plugin computes it for every request, sampled or not (a normalised copy of the document,
    // sorted and MD5-hashed: ~0.2 ms of the gateway's CPU per request).
    hashOperation: null,
    // Our transport does not fetch through Hive: nothing for the plugin to close on dispose.
    flushOnDispose: false,
  });
  const requestIds: GatewayPlugin = {
    instrumentation: {
      // A subgraph call of a request that is not sampled has no span of its own (above): it runs
      // in the request's, so that the transport's `traceparent` tells the subgraph "not sampled"
      // (without one the subgraph would start a trace of its own at the ratio). The transport
      // reads the active context as it is called, synchronously from here.
      subgraphExecute({ executionRequest }, wrapped) {
        const request = (executionRequest.context as { request?: Request } | undefined)?.request;
        const at = request && otel.getHttpContext(request);
        if (!at || sampledRequest(request)) return wrapped();
        return context.with(at, wrapped);
      },
    },
    onRequest({ request, serverContext }) {
      const req = (serverContext as { req?: object } | undefined)?.req;
      if (!req) return;
      const at: Context = otel.getHttpContext(request) ?? context.active();
      const span = trace.getSpan(at);
      if (!span) return;
      sampledRequests.set(req, span.isRecording());
      const { traceId, spanId, traceFlags } = span.spanContext();
      traceOfRequest.set(req, {
        trace_id: traceId,
        span_id: spanId,
        trace_flags: `0${traceFlags.toString(16)}`,
      });
    },
  };
  const notSampled = (payload: unknown): boolean => {
    const req = nodeRequestOf(payload);
    if (!req) return false;
    let sampled = sampledRequests.get(req);
    if (sampled === undefined) {
      // The first hook after the plugin made the request's span (its onRequest).
      const request = (payload as { request?: Request }).request;
      const at = request && otel.getHttpContext(request);
      if (!at) return false;
      sampled = trace.getSpan(at)?.isRecording() ?? true;
      sampledRequests.set(req, sampled);
    }
    return !sampled;
  };
  return [onlyWhenSampled(otel, notSampled) as GatewayPlugin, requestIds];
}
