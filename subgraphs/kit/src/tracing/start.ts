import { createRequire } from "node:module";
import { hostname } from "node:os";
import type { IncomingMessage } from "node:http";
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";
import { commonEnv, withoutEmptyValues } from "../settings/common-env.js";
import { inSampledTrace, markTracingStarted } from "./state.js";

/** The two settings tracing reads (declared with every process's, in settings/common-env.ts). */
export const tracingEnv = commonEnv.pick({ HUB_OTLP_ENDPOINT: true, HUB_TRACE_SAMPLE_RATIO: true });

/** What every hub process reports as `service.namespace`; `service.name` is the process's own. */
export const SERVICE_NAMESPACE = "card-status-hub";

/** The only incoming requests a subgraph traces: GraphQL calls and event deliveries. */
const TRACED_PATHS = new Set(["/graphql", "/events"]);

export interface TracingOptions {
  /**
   * Load the HTTP, GraphQL and MongoDB instrumentations (a subgraph). The gateway has none: Hive
   * Gateway's OpenTelemetry plugin makes its spans (gateway/src/plugins/tracing.plugin.ts).
   */
  instrument?: boolean;
  /**
   * Carry sampled contexts across `await`s (default): the instrumentations and the events' spans
   * find their parent in the active context. False for the gateway, whose spans are all Hive's
   * plugin's, parented explicitly: its contexts are active for the synchronous part of `with` only,
   * and it never pays Node's promise hook (context.ts).
   */
  carryContext?: boolean;
  /** Where spans go instead of OTLP/HTTP (tests). */
  exporter?: SpanExporter;
}

export interface RunningTracing {
  serviceName: string;
  /** Sends what is queued now (tests; a process that stops). */
  flush(): Promise<void>;
  /** Sends what is queued and stops tracing. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL of a collector's base URL (kept as given when it names the path). */
export function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, "");
  return base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
}

function pathOf(request: IncomingMessage): string {
  const target = request.url ?? "/";
  const query = target.indexOf("?");
  return query < 0 ? target : target.slice(0, query);
}

/**
 * Whether a GraphQL call comes with a W3C `traceparent` whose trace is not sampled: at 1% nearly
 * every call from the gateway. Its span would be dropped, and so would every span below it.
 */
function callerDidNotSample(request: IncomingMessage): boolean {
  const parent = request.headers["traceparent"];
  // version-traceid-parentid-flags; the flags' lowest bit is "sampled".
  if (typeof parent !== "string" || parent.length < 55 || parent[52] !== "-") return false;
  return (Number.parseInt(parent.slice(53, 55), 16) & 1) === 0;
}

/**
 * The incoming requests a subgraph traces: GraphQL calls and event deliveries, except GraphQL calls
 * whose caller's trace is not sampled. For those the HTTP instrumentation makes no span (it runs
 * the request with tracing suppressed), rather than one that is dropped: it would compute every
 * attribute of it, bind the request's events to its context and record its metrics all the same.
 * Deliveries keep their span, sampled or not: the events they apply belong to the delivery's
 * trace, and without one each would start its own (events.ts, `inApplySpan`).
 */
function ignoredRequest(request: IncomingMessage): boolean {
  const path = pathOf(request);
  if (!TRACED_PATHS.has(path)) return true;
  return path === "/graphql" && callerDidNotSample(request);
}

/**
 * A MongoDB command as its span's `db.query.text`: its shape with every value replaced by `?` (as
 * the instrumentation's default does: no personal data leaves), and nothing at all for a command
 * of a request that is not sampled, whose span is dropped anyway (the default serialises every
 * command of every request, sampled or not).
 */
function statementOf(command: Record<string, unknown>): string {
  if (!inSampledTrace()) return "";
  const seen = new WeakSet<object>();
  return JSON.stringify(command, (_key, value: unknown) => {
    if (typeof value !== "object" || value === null) return "?";
    if (seen.has(value)) return "[Circular]";
    seen.add(value);
    return value;
  });
}

/**
 * `@opentelemetry/resources` as the trace SDK itself resolves it. A bundled process resolves bare
 * imports from its `dist/` folder, where the repository's top-level copy may be another major
 * version (1.x, another workspace's); the SDK's own dependency is the one its provider accepts.
 */
function sdkResources(): typeof import("@opentelemetry/resources") {
  const here = createRequire(import.meta.url);
  const node = createRequire(here.resolve("@opentelemetry/sdk-trace-node"));
  const base = createRequire(node.resolve("@opentelemetry/sdk-trace-base"));
  return base("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
}

/** `@opentelemetry/context-async-hooks` as the Node SDK resolves it (its own dependency). */
function sdkContextManagers(): typeof import("@opentelemetry/context-async-hooks") {
  const here = createRequire(import.meta.url);
  const node = createRequire(here.resolve("@opentelemetry/sdk-trace-node"));
  return node(
    "@opentelemetry/context-async-hooks",
  ) as typeof import("@opentelemetry/context-async-hooks");
}

/**
 * Starts OpenTelemetry tracing in this process when HUB_OTLP_ENDPOINT is set; otherwise does
 * nothing at all (no SDK module is even loaded) and answers null.
 *
 * Must run before the modules it instruments are loaded: the instrumentations patch `mongodb` and
 * `graphql` (CommonJS packages, also when imported from ES modules) as Node's `require` loads them
 * (require-in-the-middle), and `node:http`'s server as it is required below. A bundled process runs
 * it from its bootstrap, `dist/main.mjs`, before it imports the app, `dist/app.mjs` (harness
 * processes/traced-entry.ts); a test that starts the hub in its own process calls it first.
 *
 * Spans: parent-based sampling at HUB_TRACE_SAMPLE_RATIO (a request or event that comes with a
 * trace follows its sampling decision), exported over OTLP/HTTP (JSON) by a BatchSpanProcessor
 * whose queue is bounded (the SDK's 2048 spans, OTEL_BSP_MAX_QUEUE_SIZE): when the collector is
 * down or slow, spans beyond it are dropped, and the process keeps serving.
 */
export async function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  options: TracingOptions = {},
): Promise<RunningTracing | null> {
  const parsed = tracingEnv.safeParse(withoutEmptyValues(env));
  // Bad values are named by the process's own settings check, which reads them too and stops it.
  if (!parsed.success || (!parsed.data.HUB_OTLP_ENDPOINT && !options.exporter)) return null;
  const { HUB_OTLP_ENDPOINT: endpoint, HUB_TRACE_SAMPLE_RATIO: ratio } = parsed.data;
  try {
    return await start(serviceName, endpoint, ratio, options);
  } catch (error) {
    // Tracing is an aid: a process whose tracing cannot start serves without it, and says so.
    process.stderr.write(
      `${serviceName}: tracing not started: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return null;
  }
}

async function start(
  serviceName: string,
  endpoint: string | undefined,
  ratio: number,
  options: TracingOptions,
): Promise<RunningTracing> {
  const sdk = await import("@opentelemetry/sdk-trace-node");
  const { resourceFromAttributes } = sdkResources();
  let exporter = options.exporter;
  if (!exporter) {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    exporter = new OTLPTraceExporter({ url: tracesUrl(endpoint!) });
  }
  const { createSampledContextManager, sampledRootsWatch, OrphanSpansSampler } =
    await import("./context.js");
  // Carries contexts across `await`s only while a sampled trace is open (context.ts says why).
  const carry = options.carryContext ?? true;
  const contextManager = createSampledContextManager(
    sdkContextManagers().AsyncLocalStorageContextManager,
    carry,
  );
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": serviceName,
      "service.namespace": SERVICE_NAMESPACE,
      "service.instance.id": `${hostname()}:${process.pid}`,
    }),
    sampler: new OrphanSpansSampler(
      new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) }),
    ),
    spanProcessors: [
      // Switches the storage off when no sampled trace is open: nothing to switch off in a process
      // that never carries.
      ...(carry ? [sampledRootsWatch(contextManager)] : []),
      // The SDK's bounds (OTEL_BSP_* adjust them): 2048 spans queued at most, sent 512 at a time
      // every 5 s, one export at a time; a full queue drops new spans.
      new sdk.BatchSpanProcessor(exporter),
    ],
  });
  // That context manager and the W3C trace context and baggage propagators.
  provider.register({ contextManager });

  if (options.instrument) {
    const { registerInstrumentations } = await import("@opentelemetry/instrumentation");
    const { HttpInstrumentation } = await import("@opentelemetry/instrumentation-http");
    const { GraphQLInstrumentation } = await import("@opentelemetry/instrumentation-graphql");
    const { MongoDBInstrumentation } = await import("@opentelemetry/instrumentation-mongodb");
    const { onlyInSampledTraces } = await import("./graphql-when-sampled.js");
    registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [
        new HttpInstrumentation({
          // Probes and scrapes (/readyz, /healthz, /metrics, /outbox) are not worth a trace, nor
          // a GraphQL call whose trace is not sampled.
          ignoreIncomingRequestHook: ignoredRequest,
          // The relay polls and the feed's webhooks call out on their own: only inside a trace.
          requireParentforOutgoingSpans: true,
          requestHook: (span, request) => {
            if ("headers" in request && "socket" in request && !("setHeader" in request)) {
              const path = pathOf(request as IncomingMessage);
              span.updateName(`${(request as IncomingMessage).method ?? "POST"} ${path}`);
              span.setAttribute("http.route", path);
            }
          },
        }),
        // Parse, validate and execute of each call in a sampled trace; no span per resolved field
        // (their number grows with the answer, and the gateway's plan already says which fields
        // came from here).
        onlyInSampledTraces(
          new GraphQLInstrumentation({ ignoreResolveSpans: true, mergeItems: true }),
        ),
        // Only commands inside a traced request or delivery: not the relay's idle polls.
        new MongoDBInstrumentation({ requireParentSpan: true, dbStatementSerializer: statementOf }),
      ],
    });
    // The HTTP instrumentation patches `node:http` when it is next required; the subgraph server
    // imports it as an ES module, which require-in-the-middle does not see.
    createRequire(import.meta.url)("http");
  }
  markTracingStarted({
    serviceName,
    sampleRatio: ratio,
    carriedSeconds: () => contextManager.carriedSeconds(),
    flush: () => provider.forceFlush(),
  });
  return {
    serviceName,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      markTracingStarted(null);
      await provider.shutdown();
    },
  };
}
