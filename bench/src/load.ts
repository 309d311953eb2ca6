import autocannon from "autocannon";
import { siblingUrl } from "@hub/kit";
import { outboxLag, percentile } from "./outboxes.js";
import { cpuMs } from "./proc.js";
import type { BenchStack } from "./stack.js";

/** MongoDB commands so far over all subgraphs; NaN when they are not counted (BENCH_DB_COMMANDS). */
async function dbCommands(subgraphUrls: Record<string, string>): Promise<number> {
  let total = 0;
  for (const url of Object.values(subgraphUrls)) {
    const response = await fetch(siblingUrl(url, "/dbstats"));
    if (!response.ok) return Number.NaN;
    total += ((await response.json()) as { commands: number }).commands;
  }
  return total;
}

/** A request workload `npm run bench` drives with autocannon. */
export interface Workload {
  name: string;
  /** Builds each request body; `context` is per connection. */
  body: (context: Record<string, unknown>, index: number) => string;
  /** Requests a connection cycles through (mutations need an order: loss before withdrawal). */
  cycle: number;
}

/** Outbox lag sampled every 250 ms during a run, and once 2 s after it. */
export interface LagSample {
  maxOldestPendingMs: number;
  maxPending: number;
  twoSecondsAfter: { pending: number; oldestPendingMs: number };
}

export interface Sample {
  /** CPU per request of every process of the hub (the target gateway, each subgraph, database). */
  cpuPerRequestUsByProcess: Record<string, number> | null;
  lag: LagSample | null;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  requests: number;
  cpuPerRequestUs: number | null;
  dbCommandsPerRequest: number;
}

/**
 * Drives `workload` at `url` with autocannon for `seconds` over `connections`: throughput,
 * latency percentiles, errors, and, with the target's `pid`, CPU per request of every process of
 * the hub; MongoDB commands per request; for writes, the outbox lag while it lasts.
 */
export async function load(
  stack: BenchStack,
  url: string,
  workload: Workload,
  seconds: number,
  pid: number | null,
  connections: number,
  /** Requests per second over all connections; as fast as answered when absent. */
  rate?: number,
): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  const commandsBefore = await dbCommands(stack.subgraphUrls);
  const cpuBefore = pid ? cpuMs(pid) : 0;
  const processes: Record<string, number> = pid ? { gateway: pid, ...stack.pids } : {};
  const processCpuBefore = Object.fromEntries(
    Object.entries(processes).map(([name, id]) => [name, cpuMs(id)]),
  );
  // Writes: how far the cross-subgraph events fall behind while the load lasts.
  const lag = workload.cycle > 1 ? { maxOldestPendingMs: 0, maxPending: 0 } : null;
  let sampling = lag !== null;
  const sampler = (async () => {
    while (sampling && lag) {
      const now = await outboxLag(stack.subgraphUrls);
      lag.maxOldestPendingMs = Math.max(lag.maxOldestPendingMs, now.oldestPendingMs);
      lag.maxPending = Math.max(lag.maxPending, now.pending);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const options = {
    url,
    connections,
    duration: seconds,
    ...(rate === undefined ? {} : { overallRate: rate }),
    method: "POST",
    headers: stack.headers,
    requests: Array.from({ length: workload.cycle }, (_, index) => ({
      setupRequest: (request: Record<string, unknown>, context: Record<string, unknown>) => ({
        ...request,
        body: workload.body(context, index),
      }),
    })),
    setupClient: (client) => {
      client.on("body", (buffer: Buffer) => {
        if (buffer.includes('"errors"')) errors += 1;
      });
    },
  } as autocannon.Options;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, outcome) =>
      error ? reject(error) : resolve(outcome),
    );
    instance.on(
      "response",
      (_client: unknown, status: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime);
        if (status >= 400) errors += 1;
      },
    );
  });
  const cpuAfter = pid ? cpuMs(pid) : 0;
  const byProcess = Object.fromEntries(
    Object.entries(processes).map(([name, id]) => [
      name,
      Math.round(
        ((cpuMs(id) - processCpuBefore[name]!) * 1000) / Math.max(1, result.requests.total),
      ),
    ]),
  );
  if (pid) {
    byProcess["whole hub"] = Object.values(byProcess).reduce((a, b) => a + b, 0);
    byProcess["whole hub without the database"] =
      byProcess["whole hub"] - (byProcess["database"] ?? 0);
  }
  sampling = false;
  await sampler;
  const twoSecondsAfter = lag
    ? await new Promise((resolve) => setTimeout(resolve, 2_000)).then(() =>
        outboxLag(stack.subgraphUrls),
      )
    : null;
  const requests = result.requests.total;
  latencies.sort((a, b) => a - b);
  return {
    cpuPerRequestUsByProcess: pid ? byProcess : null,
    lag: lag && twoSecondsAfter ? { ...lag, twoSecondsAfter } : null,
    rps: Math.round(requests / seconds),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors: errors + result.errors + result.timeouts,
    requests,
    cpuPerRequestUs: pid
      ? Math.round(((cpuAfter - cpuBefore) * 1000) / Math.max(1, requests))
      : null,
    dbCommandsPerRequest:
      Math.round(
        (((await dbCommands(stack.subgraphUrls)) - commandsBefore) / Math.max(1, requests)) * 100,
      ) / 100,
  };
}
