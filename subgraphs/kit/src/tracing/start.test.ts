import { context, diag, DiagLogLevel, propagation, trace } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-node";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { startTracing, tracesUrl, type RunningTracing } from "./start.js";
import { injectTraceHeaders, tracingStarted } from "./state.js";

/** An exporter that keeps what it is given and answers only when told to. */
function heldExporter() {
  const calls: { spans: ReadableSpan[]; done: () => void }[] = [];
  const exporter: SpanExporter = {
    export(spans, resultCallback) {
      calls.push({ spans, done: () => resultCallback({ code: 0 }) });
    },
    shutdown: async () => undefined,
  };
  return { exporter, calls };
}

let running: RunningTracing | null = null;

afterEach(async () => {
  for (const call of held?.calls ?? []) call.done();
  await running?.shutdown();
  running = null;
  trace.disable();
  context.disable();
  propagation.disable();
  diag.disable();
});

let held: ReturnType<typeof heldExporter> | null = null;

describe("startTracing", () => {
  it("does nothing without HUB_OTLP_ENDPOINT: no provider, no log fields, no headers", async () => {
    expect(await startTracing("cards", { HUB_OTLP_ENDPOINT: "" })).toBeNull();
    expect(tracingStarted()).toBe(false);
    const span = trace.getTracer("test").startSpan("nothing");
    expect(span.isRecording()).toBe(false);
    expect(injectTraceHeaders({})).toEqual({});
    const lines: string[] = [];
    createLogger("t", "info", { write: (line: string) => void lines.push(line) }).info("hello");
    expect(JSON.parse(lines[0]!)).not.toHaveProperty("trace_id");
  });

  it("starts with an endpoint: spans recorded, W3C traceparent injected, log lines name the span", async () => {
    held = heldExporter();
    running = await startTracing(
      "cards",
      { HUB_OTLP_ENDPOINT: "http://collector:4318" },
      {
        exporter: held.exporter,
      },
    );
    expect(running?.serviceName).toBe("cards");
    expect(tracingStarted()).toBe(true);
    const lines: string[] = [];
    const logger = createLogger("t", "info", { write: (line: string) => void lines.push(line) });
    const tracer = trace.getTracer("test");
    await tracer.startActiveSpan("work", async (span) => {
      const headers = injectTraceHeaders({});
      const { traceId, spanId } = span.spanContext();
      expect(headers["traceparent"]).toBe(`00-${traceId}-${spanId}-01`);
      logger.info({ requestId: "r1" }, "inside");
      expect(JSON.parse(lines[0]!)).toMatchObject({
        requestId: "r1",
        trace_id: traceId,
        span_id: spanId,
      });
      span.end();
    });
    logger.info("outside");
    expect(JSON.parse(lines[1]!)).not.toHaveProperty("trace_id");
    const flushing = running!.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
    held.calls.forEach((call) => call.done());
    await flushing;
    expect(held.calls.flatMap((c) => c.spans.map((s) => s.name))).toContain("work");
    const resource = held.calls[0]!.spans[0]!.resource.attributes;
    expect(resource).toMatchObject({
      "service.name": "cards",
      "service.namespace": "card-status-hub",
    });
  });

  it("samples new traces at HUB_TRACE_SAMPLE_RATIO and follows a caller's decision", async () => {
    held = heldExporter();
    running = await startTracing(
      "cards",
      { HUB_OTLP_ENDPOINT: "http://collector:4318", HUB_TRACE_SAMPLE_RATIO: "0" },
      { exporter: held.exporter },
    );
    const tracer = trace.getTracer("test");
    expect(tracer.startSpan("new").isRecording()).toBe(false);
    const sampledParent = propagation.extract(context.active(), {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    const child = tracer.startSpan("joined", {}, sampledParent);
    expect(child.isRecording()).toBe(true);
    expect(child.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
  });

  it("keeps at most 2048 spans while the collector stalls, drops the rest, and never waits for it", async () => {
    held = heldExporter();
    const warnings: string[] = [];
    diag.setLogger(
      {
        error: () => undefined,
        warn: (message: string) => void warnings.push(message),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      DiagLogLevel.WARN,
    );
    running = await startTracing(
      "cards",
      { HUB_OTLP_ENDPOINT: "http://collector:4318" },
      {
        exporter: held.exporter,
      },
    );
    const tracer = trace.getTracer("test");
    const started = performance.now();
    for (let i = 0; i < 10_000; i += 1) tracer.startSpan(`s${i}`).end();
    // Ending spans does not wait for an export: 10,000 of them take milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
    // One export at a time: the stalled one holds a batch of 512, nothing else is sent.
    expect(held.calls).toHaveLength(1);
    expect(held.calls[0]!.spans).toHaveLength(512);
    // The collector answers again: what was kept leaves, what did not fit was dropped.
    held.calls[0]!.done();
    await new Promise((resolve) => setTimeout(resolve, 50));
    tracer.startSpan("after").end();
    const flushing = running!.flush();
    for (let i = 0; i < 20 && held.calls.some((c) => c.spans.length > 0); i += 1) {
      held.calls.forEach((call) => call.done());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await flushing;
    const exported = held.calls.reduce((sum, call) => sum + call.spans.length, 0);
    expect(exported).toBeLessThanOrEqual(512 + 2048 + 1);
    expect(warnings.some((w) => /Dropped \d+ spans because maxQueueSize reached/.test(w))).toBe(
      true,
    );
  });
});

describe("tracesUrl", () => {
  it("adds /v1/traces to a collector's base URL, once", () => {
    expect(tracesUrl("http://collector:4318")).toBe("http://collector:4318/v1/traces");
    expect(tracesUrl("http://collector:4318/")).toBe("http://collector:4318/v1/traces");
    expect(tracesUrl("https://otel.example/v1/traces")).toBe("https://otel.example/v1/traces");
  });
});
