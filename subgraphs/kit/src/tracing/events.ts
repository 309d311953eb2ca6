import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type SpanContext,
} from "@opentelemetry/api";
import { spanning } from "./spanning.js";
import { tracingStarted } from "./state.js";

/**
 * The W3C trace context an event carries: set from the active context when the command that
 * writes it runs, stored in its outbox document and sent with it, so that the relay's delivery and
 * the receiver's handling join the trace of the request that caused it. Absent when tracing is
 * off or nothing was being traced.
 */
export interface EventTraceContext {
  traceparent?: string;
  tracestate?: string;
}

const tracer = () => trace.getTracer("hub-events");

/** The trace context to store with an event written now (empty when there is none). */
export function eventTraceContext(): EventTraceContext {
  if (!tracingStarted()) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier["traceparent"]) return {};
  return carrier["tracestate"]
    ? { traceparent: carrier["traceparent"], tracestate: carrier["tracestate"] }
    : { traceparent: carrier["traceparent"] };
}

/** The context an event was written in, or null when it carries none (or a malformed one). */
function contextOf(event: EventTraceContext): Context | null {
  if (!event.traceparent) return null;
  const extracted = propagation.extract(ROOT_CONTEXT, event);
  return trace.getSpanContext(extracted) ? extracted : null;
}

/** Each trace the events were written in, once, in the order of the events. */
function tracesOf(events: readonly EventTraceContext[]): { context: Context; span: SpanContext }[] {
  const seen = new Set<string>();
  const found: { context: Context; span: SpanContext }[] = [];
  for (const event of events) {
    const written = contextOf(event);
    const span = written && trace.getSpanContext(written);
    if (!written || !span || seen.has(span.traceId)) continue;
    seen.add(span.traceId);
    found.push({ context: written, span });
  }
  return found;
}

/**
 * Runs `work` outside any trace: the relay's lane work is woken by whichever request committed
 * last, but serves every request's events (each delivery finds its own trace, below).
 */
export function outsideTraces<T>(work: () => T): T {
  return tracingStarted() ? context.with(ROOT_CONTEXT, work) : work();
}

/**
 * Runs one delivery of `events` to `destination` inside an `event.deliver <destination>` span: a
 * child of the first event's trace (the mutation that wrote it), linked to each other trace the
 * batch carries; a root span sampled at HUB_TRACE_SAMPLE_RATIO when none carries one. A string
 * result (the relay's outcome) is recorded; "failed" and "refused" mark the span as an error.
 */
export async function inDeliverySpan<T>(
  destination: string,
  events: readonly (EventTraceContext & { type: string })[],
  deliver: () => Promise<T>,
): Promise<T> {
  if (!tracingStarted()) return deliver();
  const traces = tracesOf(events);
  const parent = traces[0]?.context ?? ROOT_CONTEXT;
  const links: Link[] = traces.slice(1).map(({ span }) => ({ context: span }));
  return tracer().startActiveSpan(
    `event.deliver ${destination}`,
    {
      kind: SpanKind.PRODUCER,
      links,
      attributes: {
        "messaging.system": "card-status-hub",
        "messaging.operation.type": "send",
        "messaging.destination.name": destination,
        "messaging.batch.message_count": events.length,
        "hub.event.types": [...new Set(events.map((event) => event.type))],
      },
    },
    parent,
    (span) =>
      spanning(span, async () => {
        const result = await deliver();
        if (typeof result === "string") {
          span.setAttribute("hub.delivery.outcome", result);
          if (result === "failed" || result === "refused")
            span.setStatus({ code: SpanStatusCode.ERROR, message: result });
        }
        return result;
      }),
  );
}

/** `headers` with the active trace context added (the delivery's, for the receiver to join). */
export function withTraceHeaders(headers: Record<string, string>): Record<string, string> {
  if (tracingStarted()) propagation.inject(context.active(), headers);
  return headers;
}

/**
 * Runs a receiver's handling of one event inside an `event.apply <type>` span, below the
 * delivery's (the receiving request's), and linked to the trace the event was written in when
 * that is another one (a delivery whose batch began with another trace's event).
 */
export async function inApplySpan<T>(
  receiver: string,
  event: EventTraceContext & { id: string; type: string; source: string },
  apply: () => Promise<T>,
): Promise<T> {
  if (!tracingStarted()) return apply();
  const written = contextOf(event);
  const origin = written && trace.getSpanContext(written);
  const current = trace.getSpanContext(context.active());
  const links: Link[] = origin && origin.traceId !== current?.traceId ? [{ context: origin }] : [];
  return tracer().startActiveSpan(
    `event.apply ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        "messaging.system": "card-status-hub",
        "messaging.operation.type": "process",
        "messaging.destination.name": receiver,
        "messaging.message.id": event.id,
        "hub.event.type": event.type,
        "hub.event.source": event.source,
      },
    },
    // Outside any delivery (a receiver called without one): the event's own trace.
    current ? context.active() : (written ?? ROOT_CONTEXT),
    (span) => spanning(span, apply),
  );
}

/** The trace context fields an event has (none when it has none): what its wire form carries. */
export function carriedTraceContext(event: EventTraceContext): EventTraceContext {
  if (!event.traceparent) return {};
  return event.tracestate
    ? { traceparent: event.traceparent, tracestate: event.tracestate }
    : { traceparent: event.traceparent };
}
