import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createContextKey,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type Context,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { suppressTracing } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  type Span,
} from "@opentelemetry/sdk-trace-node";
import { describe, expect, it } from "vitest";
import { createSampledContextManager, OrphanSpansSampler, sampledRootsWatch } from "./context.js";
import { headSampled } from "./state.js";

const withSpan = (flags: TraceFlags, isRemote = false): Context =>
  trace.setSpan(
    ROOT_CONTEXT,
    trace.wrapSpanContext({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: flags,
      isRemote,
    }),
  );
const sampled = withSpan(TraceFlags.SAMPLED);
const notSampled = withSpan(TraceFlags.NONE);

/** The active context synchronously inside `with`, and after an `await` there. */
async function activeIn(
  manager: ReturnType<typeof createSampledContextManager>,
  context: Context,
): Promise<[Context, Context]> {
  return manager.with(context, async () => {
    const now = manager.active();
    await sleep(1);
    return [now, manager.active()] as [Context, Context];
  });
}

describe("the sampled-only context manager", () => {
  it("binds an event emitter only to a context it carries: one not sampled or suppressed leaves its listener methods as they are", () => {
    const manager = createSampledContextManager(AsyncLocalStorageContextManager);
    for (const context of [notSampled, suppressTracing(ROOT_CONTEXT), ROOT_CONTEXT]) {
      const emitter = manager.bind(context, new EventEmitter());
      expect(emitter.on).toBe(EventEmitter.prototype.on);
    }
    const bound = manager.bind(sampled, new EventEmitter());
    expect(bound.on).not.toBe(EventEmitter.prototype.on);
    let seen: Context | undefined;
    bound.on("x", () => (seen = manager.active()));
    bound.emit("x");
    expect(seen).toBe(sampled);
    manager.disable();
  });

  it("carries a sampled context across awaits; one not sampled (or with tracing suppressed) only while `with` runs, until a sampled one is entered", async () => {
    const manager = createSampledContextManager(AsyncLocalStorageContextManager);
    expect(await activeIn(manager, notSampled)).toEqual([notSampled, ROOT_CONTEXT]);
    const suppressed = suppressTracing(ROOT_CONTEXT);
    expect(await activeIn(manager, suppressed)).toEqual([suppressed, ROOT_CONTEXT]);
    expect(manager.active()).toBe(ROOT_CONTEXT);

    expect(await activeIn(manager, sampled)).toEqual([sampled, sampled]);
    // Once the storage runs, every context is carried, as by the SDK's own manager.
    expect(await activeIn(manager, notSampled)).toEqual([notSampled, notSampled]);
    // A context holding values but no span (a baggage, a plugin's check) is carried too.
    const valued = ROOT_CONTEXT.setValue(createContextKey("test"), 1);
    expect(await activeIn(manager, valued)).toEqual([valued, valued]);

    manager.rest(0, true);
    expect(await activeIn(manager, notSampled)).toEqual([notSampled, ROOT_CONTEXT]);
    manager.disable();
  });

  it("told not to carry (the gateway), keeps every context, a sampled one too, only while `with` runs, and never runs its storage", async () => {
    const manager = createSampledContextManager(AsyncLocalStorageContextManager, false);
    expect(await activeIn(manager, sampled)).toEqual([sampled, ROOT_CONTEXT]);
    const valued = ROOT_CONTEXT.setValue(createContextKey("test"), 1);
    expect(await activeIn(manager, valued)).toEqual([valued, ROOT_CONTEXT]);
    expect(manager.bind(sampled, new EventEmitter()).on).toBe(EventEmitter.prototype.on);
    // A function bound to it still runs in it.
    expect(manager.bind(sampled, () => manager.active())()).toBe(sampled);
    expect(manager.carriedSeconds()).toBe(0);
    manager.disable();
  });

  it("rests only when no sampled trace is open: at once when the last ends, else after a check with none entered", async () => {
    const manager = createSampledContextManager(AsyncLocalStorageContextManager);
    const watch = sampledRootsWatch(manager, 5, 60_000);
    const span = (flags: TraceFlags) =>
      ({ spanContext: () => ({ traceFlags: flags }) }) as unknown as Span;
    const request = span(TraceFlags.SAMPLED);
    await activeIn(manager, sampled);
    // A span that joins a trace from another process (a remote parent) begins one here.
    watch.onStart(request, withSpan(TraceFlags.SAMPLED, true));
    // Its children, and spans not sampled, are not counted.
    watch.onStart(span(TraceFlags.SAMPLED), sampled);
    watch.onStart(span(TraceFlags.NONE), ROOT_CONTEXT);

    manager.rest(1);
    manager.rest(1, true);
    expect((await activeIn(manager, notSampled))[1]).toBe(notSampled);
    watch.onEnd(request as never);
    await sleep(30);
    expect((await activeIn(manager, notSampled))[1]).toBe(ROOT_CONTEXT);

    // Entered with no span counted (the gateway plugin's start-up check): the periodic check
    // leaves it one period, then rests.
    await activeIn(manager, sampled);
    manager.rest(0);
    expect((await activeIn(manager, notSampled))[1]).toBe(notSampled);
    manager.rest(0);
    expect((await activeIn(manager, notSampled))[1]).toBe(ROOT_CONTEXT);
    await watch.shutdown();
    manager.disable();
  });
});

describe("OrphanSpansSampler", () => {
  const sampler = new OrphanSpansSampler(new AlwaysOnSampler());
  const decide = (context: Context, name: string) =>
    sampler.shouldSample(
      context,
      "0af7651916cd43dd8448eb211c80319c",
      name,
      SpanKind.INTERNAL,
      {},
      [],
    ).decision;

  it("does not sample a request's part that comes without its request (GraphQL phases, subgraph calls)", () => {
    for (const name of [
      "graphql.execute",
      "graphql.parse",
      "graphql.plan",
      "subgraph.execute (cards)",
    ])
      expect(decide(ROOT_CONTEXT, name), name).toBe(SamplingDecision.NOT_RECORD);
  });

  it("keeps the server span of a request the gateway drew as sampled (HEAD_SAMPLED), whatever the ratio; nothing else begun there", () => {
    const neverAtRoot = new OrphanSpansSampler(
      new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    );
    const at = (context: Context, kind: SpanKind, name = "POST /graphql") =>
      neverAtRoot.shouldSample(context, "0af7651916cd43dd8448eb211c80319c", name, kind, {}, [])
        .decision;
    const drawn = headSampled(ROOT_CONTEXT);
    expect(at(drawn, SpanKind.SERVER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(at(ROOT_CONTEXT, SpanKind.SERVER)).toBe(SamplingDecision.NOT_RECORD);
    // Another span begun without a parent in that context: the ratio's, not kept for the marker.
    expect(at(drawn, SpanKind.INTERNAL, "event.deliver passwords")).toBe(
      SamplingDecision.NOT_RECORD,
    );
    // Below a parent, the parent decides: a caller's trace not sampled stays so.
    expect(at(headSampled(notSampled), SpanKind.SERVER)).toBe(SamplingDecision.NOT_RECORD);
  });

  it("leaves every other decision to the sampler it wraps", () => {
    expect(decide(ROOT_CONTEXT, "POST /graphql")).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(ROOT_CONTEXT, "event.deliver passwords")).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(sampled, "graphql.execute")).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
