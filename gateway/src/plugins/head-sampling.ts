import { randomUUID } from "node:crypto";
import {
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
} from "@opentelemetry/api";
import type { TraceLogFields } from "@hub/kit/tracing";

/**
 * The gateway's head sampling: each client request's decision, drawn as it comes in, before any
 * span is made (tracing.plugin.ts says what it spares a request that is not sampled).
 */

/** What a log line names its trace by (as the kit's logger does inside a span), all of it. */
export type TraceFields = Required<TraceLogFields>;

/** A client request's sampling, drawn as it comes in. */
export type Sampling =
  | { sampled: true }
  /**
   * Not sampled (nor traced at all: a probe, a WebSocket operation): the context its subgraph
   * calls run in (their `traceparent`: "not sampled") and the ids its log line names.
   */
  | { sampled: false; at: Context; fields: TraceFields };

const HEADERS_GETTER = {
  keys: (headers: Headers) => [...headers.keys()],
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};

/** A trace of its own that is not sampled: new random ids, flags `00`. */
export function notSampledTrace(): Sampling & { sampled: false } {
  const id = randomUUID().replaceAll("-", "");
  const spanContext = {
    traceId: id,
    spanId: id.slice(0, 16),
    traceFlags: TraceFlags.NONE,
    isRemote: false,
  };
  return {
    sampled: false,
    at: trace.setSpanContext(ROOT_CONTEXT, spanContext),
    fields: { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: "00" },
  };
}

/**
 * Head sampling, as the SDK's parent-based ratio sampler would decide on the request's span: a
 * caller's valid `traceparent` (read by the W3C propagator the plugin uses: any version, with its
 * `tracestate`) decides by its "sampled" flag, and one not sampled is passed on as it came; without
 * one, a draw at `ratio` (`random`: a number in [0, 1)).
 */
export function sampleRequest(
  request: Request,
  ratio: number,
  random: () => number = Math.random,
): Sampling {
  if (request.headers.has("traceparent")) {
    const extracted = propagation.extract(ROOT_CONTEXT, request.headers, HEADERS_GETTER);
    const parent = trace.getSpanContext(extracted);
    if (parent && isSpanContextValid(parent)) {
      if ((parent.traceFlags & TraceFlags.SAMPLED) !== 0) return { sampled: true };
      return {
        sampled: false,
        at: extracted,
        fields: { trace_id: parent.traceId, span_id: parent.spanId, trace_flags: "00" },
      };
    }
  }
  return random() < ratio ? { sampled: true } : notSampledTrace();
}

/** The path of a client request (the server's parsed URL when it has one, as Hive's plugin reads it). */
export function pathOf(request: Request): string {
  const url =
    "parsedUrl" in request
      ? (request as Request & { parsedUrl: URL }).parsedUrl
      : new URL(request.url, "http://localhost");
  return url.pathname;
}
