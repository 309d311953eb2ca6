import { Counter, type Registry } from "prom-client";
import { traceContextCarriedSeconds } from "./state.js";

/**
 * `hub_trace_context_carried_seconds_total` in `registry`, when this process traces: the time it
 * has carried trace context across `await`s. Meanwhile every request of the process, sampled or
 * not, pays Node 20's promise hook (kit tracing/context.ts): its rate is the share of the time
 * tracing costs a process more than its sampled requests' own spans (docs/operations.md).
 */
export function registerTraceContextMetric(registry: Registry): void {
  if (traceContextCarriedSeconds() === null) return;
  new Counter({
    name: "hub_trace_context_carried_seconds_total",
    help: "Seconds this process carried trace context across awaits (while a sampled trace was open here); every request of the process pays Node's promise hook meanwhile.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(traceContextCarriedSeconds() ?? 0);
    },
  });
}
