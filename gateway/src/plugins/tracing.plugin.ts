import type { IncomingMessage } from "node:http";
import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { useOpenTelemetry } from "@graphql-hive/plugin-opentelemetry";
import { QueryPlanner, type PlanNode } from "@graphql-hive/router-query-planner";
import { context, SpanStatusCode, trace, type Context } from "@opentelemetry/api";

/** The trace of each client request, by the Node request its log line is written for. */
const traceOfRequest = new WeakMap<object, TraceFields>();

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
    return tracer.startActiveSpan("graphql.plan", async (span) => {
      if (operationName) span.setAttribute("graphql.operation.name", operationName);
      try {
        const plan = await planAsync.call(this, query, operationName, ...rest);
        span.setAttribute("hub.plan.fetches", fetchesIn(plan.node));
        return plan;
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
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
 */
export function useHubTracing(): GatewayPlugin[] {
  tracePlanner();
  const otel = useOpenTelemetry({
    traces: {
      spans: {
        // Only GraphQL requests: not liveness, readiness and metrics probes.
        http: ({ request }) => {
          const path = new URL(request.url, "http://localhost").pathname;
          return path === "/graphql";
        },
        // Building the context is the auth plugin's token check, inside the operation span.
        graphqlContextBuilding: false,
      },
    },
    useContextManager: true,
    // Our transport does not fetch through Hive: nothing for the plugin to close on dispose.
    flushOnDispose: false,
  });
  const requestIds: GatewayPlugin = {
    onRequest({ request, serverContext }) {
      const req = (serverContext as { req?: object } | undefined)?.req;
      if (!req) return;
      const at: Context = otel.getHttpContext(request) ?? context.active();
      const span = trace.getSpan(at);
      if (!span) return;
      const { traceId, spanId, traceFlags } = span.spanContext();
      traceOfRequest.set(req, {
        trace_id: traceId,
        span_id: spanId,
        trace_flags: `0${traceFlags.toString(16)}`,
      });
    },
  };
  return [otel as GatewayPlugin, requestIds];
}
