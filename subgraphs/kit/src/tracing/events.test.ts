import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { afterEach, describe, expect, it } from "vitest";
import {
  eventTraceContext,
  inApplySpan,
  inDeliverySpan,
  outsideTraces,
  withTraceHeaders,
} from "./events.js";
import { startTracing, type RunningTracing } from "./start.js";

let running: RunningTracing | null = null;
let exporter = new InMemorySpanExporter();

async function tracing(): Promise<void> {
  exporter = new InMemorySpanExporter();
  running = await startTracing(
    "cards",
    { HUB_OTLP_ENDPOINT: "http://collector:4318" },
    {
      exporter,
    },
  );
}

async function finished() {
  await running!.flush();
  return exporter.getFinishedSpans();
}

/** The trace context stored with an event written inside a new root span named `name`. */
function writtenIn(name: string): { traceparent?: string; traceId: string; spanId: string } {
  return trace.getTracer("test").startActiveSpan(name, (span) => {
    const stored = eventTraceContext();
    span.end();
    return { ...stored, ...span.spanContext() };
  });
}

afterEach(async () => {
  await running?.shutdown();
  running = null;
  trace.disable();
  context.disable();
  propagation.disable();
});

describe("events in traces", () => {
  it("tracing off: no field stored, delivery and handling run as they are, no header", async () => {
    expect(eventTraceContext()).toEqual({});
    expect(
      await inDeliverySpan("passwords", [{ type: "CardIssued" }], async () => "accepted"),
    ).toBe("accepted");
    expect(
      await inApplySpan(
        "passwords",
        { id: "e1", type: "CardIssued", source: "cards" },
        async () => 1,
      ),
    ).toBe(1);
    expect(withTraceHeaders({ a: "b" })).toEqual({ a: "b" });
    expect(outsideTraces(() => 7)).toBe(7);
  });

  it("an event stores the trace context of the command that wrote it", async () => {
    await tracing();
    const stored = writtenIn("mutation");
    expect(stored.traceparent).toBe(`00-${stored.traceId}-${stored.spanId}-01`);
    expect(eventTraceContext()).toEqual({});
  });

  it("a delivery is a child of its first event's trace and links to each other trace of its batch", async () => {
    await tracing();
    const first = writtenIn("first mutation");
    const second = writtenIn("second mutation");
    const outcome = await inDeliverySpan(
      "passwords",
      [
        { type: "CardIssued", traceparent: first.traceparent },
        { type: "CardLost", traceparent: first.traceparent },
        { type: "CardIssued", traceparent: second.traceparent },
        { type: "CardIssued" },
      ],
      async () => {
        // The receiver is sent the delivery's own context.
        const headers = withTraceHeaders({});
        const active = trace.getActiveSpan()!.spanContext();
        expect(headers["traceparent"]).toBe(`00-${active.traceId}-${active.spanId}-01`);
        return "accepted";
      },
    );
    expect(outcome).toBe("accepted");
    const delivery = (await finished()).find((s) => s.name === "event.deliver passwords")!;
    expect(delivery.spanContext().traceId).toBe(first.traceId);
    expect(delivery.parentSpanContext?.spanId).toBe(first.spanId);
    expect(delivery.links.map((link) => link.context.traceId)).toEqual([second.traceId]);
    expect(delivery.attributes).toMatchObject({
      "messaging.destination.name": "passwords",
      "messaging.batch.message_count": 4,
      "hub.event.types": ["CardIssued", "CardLost"],
      "hub.delivery.outcome": "accepted",
    });
  });

  it("a failed delivery is an error span; a batch without trace context starts its own trace", async () => {
    await tracing();
    await inDeliverySpan("bank-accounts", [{ type: "CardIssued" }], async () => "failed");
    const [delivery] = await finished();
    expect(delivery!.parentSpanContext).toBeUndefined();
    expect(delivery!.status.code).toBe(2);
    expect(delivery!.links).toEqual([]);
  });

  it("handling an event is a child of the delivery received, linked to the event's own trace when another", async () => {
    await tracing();
    const origin = writtenIn("mutation");
    const other = writtenIn("another mutation");
    const delivered = propagation.extract(context.active(), { traceparent: other.traceparent });
    await context.with(delivered, () =>
      inApplySpan(
        "passwords",
        { id: "e1", type: "CardIssued", source: "cards", traceparent: origin.traceparent },
        async () => undefined,
      ),
    );
    await context.with(
      propagation.extract(context.active(), { traceparent: origin.traceparent }),
      () =>
        inApplySpan(
          "passwords",
          { id: "e2", type: "CardIssued", source: "cards", traceparent: origin.traceparent },
          async () => undefined,
        ),
    );
    const applied = (await finished()).filter((s) => s.name === "event.apply CardIssued");
    expect(applied[0]!.spanContext().traceId).toBe(other.traceId);
    expect(applied[0]!.links.map((l) => l.context.spanId)).toEqual([origin.spanId]);
    expect(applied[1]!.spanContext().traceId).toBe(origin.traceId);
    expect(applied[1]!.links).toEqual([]);
    expect(applied[0]!.attributes).toMatchObject({
      "messaging.message.id": "e1",
      "hub.event.source": "cards",
    });
  });

  it("the relay's lane work runs outside the request that woke it", async () => {
    await tracing();
    trace.getTracer("test").startActiveSpan("mutation", (span) => {
      expect(outsideTraces(() => trace.getActiveSpan())).toBeUndefined();
      span.end();
    });
  });
});
