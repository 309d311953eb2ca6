import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { GraphQLInstrumentation } from "@opentelemetry/instrumentation-graphql";
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { buildSchema, defaultFieldResolver, execute, parse, type ExecutionResult } from "graphql";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { onlyInSampledTraces } from "./graphql-when-sampled.js";

// Every span sampled, whatever its parent: a GraphQL call the wrapper let through to the
// instrumentation, outside a sampled trace, would show here.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({
  sampler: new AlwaysOnSampler(),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
provider.register();
const instrumentation = new GraphQLInstrumentation({
  enabled: false,
  ignoreResolveSpans: true,
  mergeItems: true,
});
instrumentation.setTracerProvider(provider);
type Wrap = (original: unknown) => (...args: unknown[]) => unknown;
const makers = onlyInSampledTraces(instrumentation) as unknown as Record<
  string,
  (...args: unknown[]) => Wrap
>;

const schema = buildSchema("type Query { hello: String }");
/** `parse` and `execute` as the instrumentation patches them when `graphql` loads. */
const tracedParse = () => makers["_patchParse"]!()(parse) as typeof parse;
const tracedExecute = () =>
  makers["_patchExecute"]!(defaultFieldResolver)(execute) as (
    args: Parameters<typeof execute>[0],
  ) => ExecutionResult;

function call(): ExecutionResult {
  const document = tracedParse()("query Hello { hello }");
  return tracedExecute()({ schema, document, rootValue: { hello: "hi" } });
}

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

beforeEach(() => exporter.reset());

describe("the GraphQL instrumentation only inside a sampled trace", () => {
  it("still has the patch makers it wraps (a new version that renamed them would trace every call again)", () => {
    for (const name of ["_patchExecute", "_patchParse", "_patchValidate"])
      expect(typeof makers[name], name).toBe("function");
  });

  it("outside any trace, and below a caller's trace not sampled, runs the original: no span", () => {
    expect(call()).toEqual({ data: { hello: "hi" } });
    const notSampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    expect(context.with(notSampled, call)).toEqual({ data: { hello: "hi" } });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual([]);
  });

  it("inside a sampled trace, parse and execute are spans of it", () => {
    const tracer = provider.getTracer("test");
    const result = tracer.startActiveSpan("request", (span) => {
      try {
        return call();
      } finally {
        span.end();
      }
    });
    expect(result).toEqual({ data: { hello: "hi" } });
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === "request")!;
    expect(
      spans
        .filter((s) => s.parentSpanContext?.spanId === request.spanContext().spanId)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["graphql.parse", "query Hello"]);
  });
});
