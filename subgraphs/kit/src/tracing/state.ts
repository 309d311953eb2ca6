import { context, propagation, trace, TraceFlags, type Context } from "@opentelemetry/api";

/**
 * Whether this process started tracing (kit tracing/start.ts). Kept on `globalThis`: a bundled
 * process starts tracing from its bootstrap (`dist/main.mjs`), a bundle apart from the app
 * (`dist/app.mjs`), each with its own copy of this module.
 */
const STARTED = Symbol.for("card-status-hub.tracing.started");

/** What a process's tracing runs with: the service name it reports, the ratio it samples at. */
export interface StartedTracing {
  serviceName: string;
  /** HUB_TRACE_SAMPLE_RATIO as tracing read it: the share of traces begun here that are kept. */
  sampleRatio: number;
  /** Seconds the process has carried trace context across `await`s (context.ts). */
  carriedSeconds: () => number;
  /** Sends the spans queued now. */
  flush: () => Promise<void>;
}

type WithFlag = typeof globalThis & { [STARTED]?: StartedTracing };

/** Called once tracing runs in this process (null once it stops). */
export function markTracingStarted(started: StartedTracing | null): void {
  if (started === null) delete (globalThis as WithFlag)[STARTED];
  else (globalThis as WithFlag)[STARTED] = started;
}

/**
 * True once this process exports traces (HUB_OTLP_ENDPOINT set). Everything tracing adds to a
 * request — the gateway's plugin, log fields, headers — is only installed when it is, so a hub
 * without a collector does exactly what it did before.
 */
export function tracingStarted(): boolean {
  return (globalThis as WithFlag)[STARTED] !== undefined;
}

/** How long a stopping process waits for its last spans to leave (the exporter's own timeout is 10 s). */
const LAST_FLUSH_MS = 3_000;

/**
 * Sends the spans this process still holds, for a process about to exit once it has stopped
 * serving: the spans of the requests it finished while draining ended after the signal, and only
 * leave on the exporter's timer otherwise. At most LAST_FLUSH_MS (a collector that is down does not
 * hold the exit up); nothing to do when tracing is off.
 */
export async function flushTracing(): Promise<void> {
  const started = (globalThis as WithFlag)[STARTED];
  if (!started) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    started.flush().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_FLUSH_MS))),
  ]);
  clearTimeout(timer);
}

/** The share of traces begun in this process that are sampled; 0 when tracing is off. */
export function traceSampleRatio(): number {
  return (globalThis as WithFlag)[STARTED]?.sampleRatio ?? 0;
}

/**
 * Seconds this process has carried trace context across `await`s (Node's AsyncLocalStorage on,
 * while a sampled trace was open here: kit tracing/context.ts), during which every request in the
 * process paid Node's promise hook; null when tracing is off.
 */
export function traceContextCarriedSeconds(): number | null {
  return (globalThis as WithFlag)[STARTED]?.carriedSeconds() ?? null;
}

/**
 * Marks a context whose request this process chose to trace before making its span (the gateway's
 * head sampling, gateway/src/plugins/tracing.plugin.ts): a span begun in it without a parent is
 * sampled, the ratio already drawn (context.ts, OrphanSpansSampler). A `Symbol.for` key: the
 * bootstrap's sampler and the app's plugin are separate bundles.
 */
export const HEAD_SAMPLED = Symbol.for("card-status-hub.tracing.head-sampled");

/** `from`, marked as a request chosen to be traced (HEAD_SAMPLED). */
export function headSampled(from: Context): Context {
  return from.setValue(HEAD_SAMPLED, true);
}

/** Whether the active context is a sampled trace's (a span of it, here or in the caller). */
export function inSampledTrace(): boolean {
  const span = trace.getSpanContext(context.active());
  return span !== undefined && (span.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/** What a log line names its trace by (none outside a span). */
export type TraceLogFields = { trace_id?: string; span_id?: string; trace_flags?: string };

/** The trace a log line belongs to: pino's `mixin` while tracing (kit logger.ts). */
export function traceLogFields(): TraceLogFields {
  return traceFieldsOf(context.active());
}

/** The trace fields of a log line about work done in `from` (a context kept for later). */
export function traceFieldsOf(from: Context): TraceLogFields {
  const span = trace.getSpan(from);
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
