import type { IncomingMessage } from "node:http";
import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { useOpenTelemetry } from "@graphql-hive/plugin-opentelemetry";
import { QueryPlanner, type PlanNode } from "@graphql-hive/router-query-planner";
import {
  headSampled,
  spanning,
  traceFieldsOf,
  traceSampleRatio,
  type TraceLogFields,
} from "@hub/kit/tracing";
import { context, trace, type Context } from "@opentelemetry/api";
import { notSampledTrace, pathOf, sampleRequest, type Sampling } from "./head-sampling.js";

/** The trace of each client request, by the Node request its log line is written for. */
const traceOfRequest = new WeakMap<object, TraceLogFields>();

/**
 * The trace and span of the gateway's span for `request` (its `POST /graphql`), for the request's
 * log line (server.ts), which is written once the answer has left, outside that span; for a request
 * not sampled, the ids its subgraph calls carried. Empty when tracing is off.
 */
export function requestTraceFields(request: IncomingMessage): TraceLogFields {
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
 * The client's request a hook's payload belongs to, wherever the payload keeps it: the request
 * hooks' own, the GraphQL context (operation phases), the execution arguments, a subgraph call's
 * request.
 */
function requestOf(payload: unknown): Request | undefined {
  const p = payload as {
    request?: Request;
    context?: { request?: Request };
    args?: { contextValue?: { request?: Request } };
    executionRequest?: { context?: { request?: Request } };
  };
  return (
    p.request ??
    p.context?.request ??
    p.args?.contextValue?.request ??
    p.executionRequest?.context?.request
  );
}

/** The plugin's hooks that only ever add to a request's spans (skipped for one not sampled). */
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

type Step = (payload: unknown, next: () => unknown) => unknown;

/** What Hive's plugin adds to the GraphQL context of a request it traces (its `onEnveloped`). */
interface RequestSpans {
  getActiveContext(matcher: { context: unknown }): Context;
  getExecutionRequestContext(request: unknown): Context | undefined;
}

/**
 * The span contexts Hive's plugin keeps for the request `graphqlContext` belongs to: only for a
 * sampled one (the plugin's hooks run for no other). Its own, rather than the plugin's process-wide
 * helpers, which answer for whichever instance of the plugin registered first.
 */
function spansOf(graphqlContext: unknown): RequestSpans | undefined {
  return (graphqlContext as { openTelemetry?: RequestSpans } | undefined)?.openTelemetry;
}

/**
 * Hive's plugin, called for a client request only when the request is sampled (`sampled`, drawn
 * before the plugin's request instrumentation would make the request's span: `traceRequest`).
 * A request not sampled skips every hook of the plugin, its span included: each hook costs the
 * plugin a copy of the payload and a state object built property by property, and the span its
 * attributes and context (together ~10% of the gateway's CPU per request at 1% sampling,
 * `npm run profile`), for spans that would be dropped. A payload with no client request runs the
 * hook as before; a WebSocket operation's request, never drawn for, counts as not sampled.
 */
function onlyWhenSampled<P extends object>(
  plugin: P,
  traceRequest: (payload: { request: Request }, step: Step, next: () => unknown) => unknown,
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
    const request = instrumentation["request"];
    if (typeof request === "function")
      wrapped["request"] = (payload: { request: Request }, next: () => unknown) =>
        traceRequest(payload, request as Step, next);
    for (const name of PER_REQUEST_INSTRUMENTATION) {
      const step = instrumentation[name];
      if (typeof step !== "function") continue;
      wrapped[name] = (payload: unknown, next: () => unknown) =>
        notSampled(payload) ? next() : (step as Step)(payload, next);
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
 * the header itself (transport/subgraph-transport.ts).
 *
 * Each client request is sampled as it comes in (`sampleRequest`: the client's `traceparent`, or
 * HUB_TRACE_SAMPLE_RATIO), before any span is made. A sampled one runs the plugin in a context
 * marked HEAD_SAMPLED, so the SDK's sampler keeps its span without drawing again. One not sampled
 * never reaches the plugin (`onlyWhenSampled`): its subgraph calls carry a `traceparent` saying
 * "not sampled", so the subgraphs trace none of it either. docs/performance.md#tracing.
 */
export function useTracing(): GatewayPlugin[] {
  tracePlanner();
  const ratio = traceSampleRatio();
  const sampling = new WeakMap<Request, Sampling>();
  const otel = useOpenTelemetry({
    traces: {
      spans: {
        // Only GraphQL requests: not liveness, readiness and metrics probes. (The server's parsed
        // URL when it has one, as the plugin's own span does.)
        http: ({ request }) => pathOf(request) === "/graphql",
        // Building the context is the auth plugin's token check, inside the operation span.
        graphqlContextBuilding: false,
      },
    },
    // The plugin keeps each request's contexts itself and parents every span it makes from them:
    // no context need be carried across the gateway's awaits (kit tracing/context.ts: on Node 20
    // carrying one makes every request of the process pay a promise hook while it is open). What
    // reads the active context instead, the planner's span and the transport's `traceparent`, is
    // given it around the call that reads it (`requestIds` below).
    useContextManager: false,
    // No `hive.graphql.operation.hash` (for Hive Console, which the hub does not report to): the
    // plugin computes it for every request, sampled or not (a normalised copy of the document,
    // sorted and MD5-hashed: ~0.2 ms of the gateway's CPU per request).
    hashOperation: null,
    // Our transport does not fetch through Hive: nothing for the plugin to close on dispose.
    flushOnDispose: false,
  });
  const traceRequest = (payload: { request: Request }, step: Step, next: () => unknown) => {
    // Probes and scrapes are not traced, nor drawn for (no ids either: `samplingOf` would make
    // them, were one to call a subgraph).
    if (pathOf(payload.request) !== "/graphql") return next();
    const drawn = sampleRequest(payload.request, ratio);
    sampling.set(payload.request, drawn);
    if (!drawn.sampled) return next();
    return context.with(headSampled(context.active()), () => step(payload, next));
  };
  /**
   * Whether the hook's request is not sampled: drawn so, or never drawn for (a WebSocket
   * operation, whose request the server makes for it: it is not traced, its spans would have no
   * request span to belong to).
   */
  const notSampled = (payload: unknown): boolean => {
    const request = requestOf(payload);
    return request !== undefined && sampling.get(request)?.sampled !== true;
  };
  /** The request's sampling; one never drawn for is not sampled, its trace its own. */
  const samplingOf = (request: Request): Sampling => {
    const drawn = sampling.get(request);
    if (drawn) return drawn;
    const own = notSampledTrace();
    sampling.set(request, own);
    return own;
  };
  /** Runs `wrapped` in the innermost span of a sampled operation (its context, synchronously). */
  const inOperationContext = (
    { context: graphqlContext }: { context: unknown },
    wrapped: () => void,
  ): void => {
    const helpers = spansOf(graphqlContext);
    if (!helpers) return wrapped();
    return context.with(helpers.getActiveContext({ context: graphqlContext }), wrapped);
  };
  const requestIds: GatewayPlugin = {
    instrumentation: {
      // The plan is made as execution (or a subscription) starts, synchronously from here (the
      // router runtime's executor): `graphql.plan` (tracePlanner) is the child of the plugin's
      // execute span, or of a subscription's operation span.
      execute: inOperationContext,
      subscribe: inOperationContext,
      // Each subgraph call runs in its span's context, or for a request not sampled in the
      // request's own: the transport reads the active context as it is called, synchronously
      // from here, for the `traceparent` it sends. One saying "not sampled" keeps the subgraph
      // from starting a trace of its own at its ratio.
      subgraphExecute({ executionRequest }, wrapped) {
        const request = (executionRequest.context as { request?: Request } | undefined)?.request;
        const drawn = request && samplingOf(request);
        if (!drawn) return wrapped();
        if (!drawn.sampled) return context.with(drawn.at, wrapped);
        const call = spansOf(executionRequest.context)?.getExecutionRequestContext(
          executionRequest,
        );
        return call ? context.with(call, wrapped) : wrapped();
      },
    },
    onRequest({ request, serverContext }) {
      const req = (serverContext as { req?: object } | undefined)?.req;
      const drawn = sampling.get(request);
      if (!req || !drawn) return;
      if (!drawn.sampled) {
        traceOfRequest.set(req, drawn.fields);
        return;
      }
      traceOfRequest.set(req, traceFieldsOf(otel.getHttpContext(request) ?? context.active()));
    },
  };
  return [onlyWhenSampled(otel, traceRequest, notSampled) as GatewayPlugin, requestIds];
}
