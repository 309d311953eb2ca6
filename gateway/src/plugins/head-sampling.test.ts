import { propagation } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleRequest } from "./head-sampling.js";

// As tracing registers it in the gateway (kit tracing/start.ts: the SDK's default propagators).
beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => propagation.disable());

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";
const request = (traceparent?: string, tracestate?: string) =>
  new Request("http://gateway/graphql", {
    method: "POST",
    headers: {
      ...(traceparent ? { traceparent } : {}),
      ...(tracestate ? { tracestate } : {}),
    },
  });

describe("the gateway's head sampling of a client request", () => {
  it("without a traceparent, draws at the ratio: sampled below it, a trace of its own not sampled above", () => {
    expect(sampleRequest(request(), 0.01, () => 0.005)).toEqual({ sampled: true });
    const drawn = sampleRequest(request(), 0.01, () => 0.5);
    expect(drawn.sampled).toBe(false);
    if (drawn.sampled) return;
    expect(drawn.fields).toEqual({
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      trace_flags: "00",
    });
    // Ratio 0 never samples; ratio 1 always does.
    expect(sampleRequest(request(), 0, () => 0).sampled).toBe(false);
    expect(sampleRequest(request(), 1, () => 0.999999).sampled).toBe(true);
  });

  it("follows a caller's valid traceparent, whatever the draw: sampled, or passed on as it came (tracestate too)", () => {
    expect(sampleRequest(request(`00-${TRACE}-${SPAN}-01`), 0, () => 0.9)).toEqual({
      sampled: true,
    });
    // A later version, read as the W3C propagator reads it.
    expect(sampleRequest(request(`01-${TRACE}-${SPAN}-01-extra`), 0, () => 0.9).sampled).toBe(true);
    const passed = sampleRequest(request(`00-${TRACE}-${SPAN}-00`, "vendor=abc"), 1, () => 0);
    expect(passed.sampled).toBe(false);
    if (passed.sampled) return;
    expect(passed.fields).toEqual({ trace_id: TRACE, span_id: SPAN, trace_flags: "00" });
    const headers: Record<string, string> = {};
    propagation.inject(passed.at, headers);
    expect(headers).toEqual({ traceparent: `00-${TRACE}-${SPAN}-00`, tracestate: "vendor=abc" });
  });

  it("draws at the ratio for a traceparent that is not valid (zero ids, bad hex, version ff)", () => {
    for (const invalid of [
      `00-${"0".repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      "garbage",
    ]) {
      expect(sampleRequest(request(invalid), 0, () => 0.5).sampled, invalid).toBe(false);
      const own = sampleRequest(request(invalid), 1, () => 0.5);
      expect(own.sampled, invalid).toBe(true);
    }
  });
});
