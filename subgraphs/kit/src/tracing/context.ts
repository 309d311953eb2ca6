import { AsyncLocalStorage } from "node:async_hooks";
import { EventEmitter } from "node:events";
import {
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type ContextManager,
  type Link,
  SpanKind,
} from "@opentelemetry/api";
import type { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { isTracingSuppressed } from "@opentelemetry/core";
import type {
  ReadableSpan,
  Sampler,
  SamplingResult,
  Span,
  SpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { HEAD_SAMPLED } from "./state.js";

/**
 * Why tracing's context is carried across `await`s only while a sampled trace is open here.
 *
 * On Node 20 an AsyncLocalStorage in use switches on a promise hook for the whole process: every
 * promise any request makes pays for it (11–20% of a subgraph's CPU, docs/performance.md), sampled
 * or not. At 1% sampling nearly every request is not sampled, and a request that is not sampled
 * needs no context carried: its spans are dropped, and so are its children's. So:
 *
 * - a context whose span is sampled (or that holds no span, as a value) is carried by the storage,
 *   which switches it (and Node's hook) on;
 * - while no sampled trace is open in this process, a context whose span is not sampled is only
 *   active for the synchronous part of `with` (what a plain function call sees): enough for the
 *   HTTP server span's `traceparent` decision to reach what it calls at once, nothing after;
 * - once no sampled span that began a trace here (a local root) has been open for a while, the
 *   storage is switched off again (`AsyncLocalStorage.disable()`; Node removes its hook when no
 *   storage is in use).
 *
 * What a request that is not sampled loses: after its first `await` it runs in the root context,
 * so its log lines carry no trace ids and the events it writes carry no `traceparent` (their
 * delivery is then a trace of its own, sampled at the ratio). Spans its instrumentations start
 * there have no parent; `OrphanSpansSampler` drops those rather than sampling them as new traces.
 */
export type SampledContextManager = ContextManager & {
  /**
   * Switches the storage off: now (`idle`: the last sampled trace open here has just ended), or,
   * checked every second, when no sampled context was entered since the last check and none is
   * open (`openSampledRoots`; contexts entered outside any span this process counts).
   */
  rest(openSampledRoots: number, idle?: boolean): void;
  /** Seconds the storage has run so far (hub_trace_context_carried_seconds_total). */
  carriedSeconds(): number;
};

/**
 * Whether `context` needs carrying: one whose span is sampled, or one that holds no span but values
 * (a baggage, a test's key). Not the root context, a span not sampled, nor a request an
 * instrumentation was told to ignore (tracing suppressed: its spans are not made at all).
 */
function needsCarrying(context: Context): boolean {
  if (context === ROOT_CONTEXT) return false;
  const span = trace.getSpanContext(context);
  if (span) return (span.traceFlags & TraceFlags.SAMPLED) !== 0;
  return !isTracingSuppressed(context);
}

/**
 * The context manager (see above), built on the SDK's AsyncLocalStorage one (`base`, resolved as
 * the SDK resolves it) for its `bind` of functions and event emitters. With `carry` false no
 * context is ever carried across an `await`, sampled or not, and the storage never runs: for a
 * process whose spans are all made by code that passes its contexts explicitly (the gateway: Hive
 * Gateway's plugin keeps each request's, tracing.plugin.ts), which then pays no promise hook at all.
 */
export function createSampledContextManager(
  base: typeof AsyncLocalStorageContextManager,
  carry = true,
): SampledContextManager {
  const carries = (context: Context) => carry && needsCarrying(context);
  class Manager extends base {
    /** The storage of sampled contexts (the base class's own is never used, so never switched on). */
    private readonly storage = new AsyncLocalStorage<Context>();
    /** Whether the storage runs (from its first sampled `with` until `rest`). */
    private storing = false;
    /** Whether a context that needs it (a sampled one) was entered since the last `rest`. */
    private used = false;
    /** The context of the synchronous `with` in progress (contexts not carried by the storage). */
    private current: Context = ROOT_CONTEXT;
    /** Milliseconds the storage ran before its current run, and when that run began. */
    private carriedMs = 0;
    private carriedSince = 0;

    carriedSeconds(): number {
      const running = this.storing ? performance.now() - this.carriedSince : 0;
      return (this.carriedMs + running) / 1000;
    }

    private stopStoring(): void {
      if (this.storing) this.carriedMs += performance.now() - this.carriedSince;
      this.storing = false;
    }

    override active(): Context {
      if (this.storing) {
        const stored = this.storage.getStore();
        if (stored !== undefined) return stored;
      }
      return this.current;
    }

    override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
      context: Context,
      fn: F,
      thisArg?: ThisParameterType<F>,
      ...args: A
    ): ReturnType<F> {
      const call = (thisArg == null ? fn : fn.bind(thisArg)) as (...args: A) => ReturnType<F>;
      const carried = carries(context);
      if (carried) this.used = true;
      if (this.storing || carried) {
        if (!this.storing) this.carriedSince = performance.now();
        this.storing = true;
        return this.storage.run(context, call, ...args);
      }
      const previous = this.current;
      this.current = context;
      try {
        return call(...args);
      } finally {
        this.current = previous;
      }
    }

    /**
     * An event emitter bound to a context not carried (a request the HTTP instrumentation ignores,
     * run with tracing suppressed; one not sampled) is left as it is: binding patches its listener
     * methods (~20 µs per request, `npm run profile`), for listeners whose spans would be dropped.
     * Functions are bound as ever (their synchronous context is kept).
     */
    override bind<T>(context: Context, target: T): T {
      if (target instanceof EventEmitter && !carries(context)) return target;
      return super.bind(context, target);
    }

    rest(openSampledRoots: number, idle = false): void {
      if (openSampledRoots > 0) return;
      if (!idle && this.used) {
        this.used = false;
        return;
      }
      this.used = false;
      if (!this.storing) return;
      this.stopStoring();
      this.storage.disable();
    }

    override enable(): this {
      return this;
    }

    override disable(): this {
      this.stopStoring();
      this.used = false;
      this.current = ROOT_CONTEXT;
      this.storage.disable();
      return this;
    }
  }
  return new Manager();
}

/**
 * Counts the sampled spans that began a trace in this process (no parent, or a parent from
 * another process: a request's or a delivery's span) while they are open. When the last one ends,
 * the context manager switches its storage off `afterMs` later if none has begun meanwhile; every
 * `everyMs` it checks for contexts entered outside any such span (the gateway plugin's start-up
 * check, a test's). At once by default (the next turn of the event loop): while the storage is on,
 * every request in the process pays Node's promise hook, and switching it back on costs one `run`.
 */
export function sampledRootsWatch(
  manager: SampledContextManager,
  afterMs = 0,
  everyMs = 1_000,
): SpanProcessor {
  const open = new WeakSet<Span>();
  let count = 0;
  let pending: NodeJS.Timeout | null = null;
  const timer = setInterval(() => manager.rest(count), everyMs);
  timer.unref();
  const restIfIdle = () => {
    pending = null;
    manager.rest(count, true);
  };
  return {
    onStart(span: Span, parentContext: Context) {
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      const parent = trace.getSpanContext(parentContext);
      if (parent && !parent.isRemote) return;
      open.add(span);
      count += 1;
    },
    onEnd(span: ReadableSpan) {
      if (!open.delete(span as unknown as Span)) return;
      count -= 1;
      if (count === 0 && pending === null) {
        pending = setTimeout(restIfIdle, afterMs);
        pending.unref();
      }
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => {
      clearInterval(timer);
      if (pending) clearTimeout(pending);
      return Promise.resolve();
    },
  };
}

/**
 * Spans that only ever belong to a request (GraphQL phases, a gateway's subgraph calls) and yet
 * have no parent: a request that is not sampled whose context was not carried (above). Sampling
 * them at the ratio would start traces of one fragment each; they are not sampled. A span without
 * a parent begun in a context marked HEAD_SAMPLED (the server span of a gateway's request it chose to
 * trace) is sampled: its ratio was drawn before it was made.
 */
const REQUEST_PARTS = /^(graphql\.|subgraph\.execute|http\.fetch)/;

export class OrphanSpansSampler implements Sampler {
  constructor(private readonly inner: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (!trace.getSpanContext(context)) {
      // A request the gateway chose to trace (its ratio drawn once, before the span was made):
      // its server span, not any other span begun without a parent inside it.
      if (spanKind === SpanKind.SERVER && context.getValue(HEAD_SAMPLED) === true)
        return { decision: 2 /* SamplingDecision.RECORD_AND_SAMPLED */ };
      if (REQUEST_PARTS.test(spanName)) return { decision: 0 /* SamplingDecision.NOT_RECORD */ };
    }
    return this.inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `OrphanSpansSampler{${this.inner.toString()}}`;
  }
}
