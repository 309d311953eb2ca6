import { context, propagation, trace, type Context } from "@opentelemetry/api";

/**
 * Whether this process started tracing (kit tracing/start.ts). Kept on `globalThis`: a bundled
 * process starts tracing from its bootstrap (`dist/main.mjs`), a bundle apart from the app
 * (`dist/app.mjs`), each with its own copy of this module.
 */
const STARTED = Symbol.for("card-status-hub.tracing.started");

type WithFlag = typeof globalThis & { [STARTED]?: string };

/** Called once tracing runs in this process, with the service name it reports. */
export function markTracingStarted(serviceName: string | null): void {
  if (serviceName === null) delete (globalThis as WithFlag)[STARTED];
  else (globalThis as WithFlag)[STARTED] = serviceName;
}

/**
 * True once this process exports traces (HUB_OTLP_ENDPOINT set). Everything tracing adds to a
 * request — the gateway's plugin, log fields, headers — is only installed when it is, so a hub
 * without a collector does exactly what it did before.
 */
export function tracingStarted(): boolean {
  return (globalThis as WithFlag)[STARTED] !== undefined;
}

/** The trace a log line belongs to: pino's `mixin` while tracing (kit logger.ts). */
export function traceLogFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` };
}

/**
 * Adds the W3C `traceparent` (and `tracestate`) of `from` — the active context by default — to
 * `headers`: what the gateway's own subgraph transport and the event relay send, since neither
 * goes through an instrumented HTTP client.
 */
export function injectTraceHeaders(
  headers: Record<string, string>,
  from: Context = context.active(),
): Record<string, string> {
  propagation.inject(from, headers);
  return headers;
}
