import "reflect-metadata";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { waitForOk } from "@hub/harness/processes";
import { median, round, sum } from "./figures.js";
import { load, type Sample } from "./load.js";
import { root, startBenchStack } from "./stack.js";

/**
 * `npm run bench:tracing -w @hub/bench`: CPU of the whole hub (gateway, subgraphs, database) per
 * varied PersonCards (a different demo person each request) with tracing off, sampling 1% and
 * sampling 100% of traces (issue 26; BENCH_TRACING_MODES, `modesOf`, names others), exporting to a
 * collector stand-in in this process that answers every export at once. Each mode runs on a stack
 * of its own, started with its settings (all at once, their runs taking turns: main says why):
 * BENCH_JIT_WARMUP s (default 20)
 * of load first, then BENCH_ROUNDS (3) runs of BENCH_DURATION s
 * (8) over BENCH_CONNECTIONS (20), as fast as the hub answers; then as many at a fixed
 * BENCH_TRACING_RATE (100 req/s, below what the hub answers with tracing at 100%) over
 * BENCH_TRACING_RATE_CONNECTIONS (2: autocannon sends each connection's share of the rate at once,
 * so 20 would come in bursts of 20). The median run of each counts. Writes bench/results/<date>-tracing.json.
 *
 * Why both: at saturation a request waits in queues for tens of milliseconds, and on Node 20 the
 * whole process pays AsyncLocalStorage's promise hook while any sampled request is open
 * (kit tracing/context.ts), so the cost of 1% sampling grows with the queueing; at a rate the hub
 * keeps up with, a request is open only for its own work, as in a hub sized for its load.
 */
const DURATION = Number(process.env["BENCH_DURATION"] ?? 8);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 20);
const JIT_WARMUP = Number(process.env["BENCH_JIT_WARMUP"] ?? 20);
const RATE = Number(process.env["BENCH_TRACING_RATE"] ?? 100);
/** The gateway serves /metrics to this bearer only; the subgraphs to anyone on their port. */
const METRICS_TOKEN = "bench-metrics-token-0123456789";
const CARRIED = "hub_trace_context_carried_seconds_total";
const RATE_CONNECTIONS = Number(process.env["BENCH_TRACING_RATE_CONNECTIONS"] ?? 2);
const MODES = process.env["BENCH_TRACING_MODES"] ?? "off,0.01,1";

/** A collector that takes every export and keeps only counts. */
async function startSink() {
  const counts = { exports: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on("data", (chunk: Buffer) => (counts.bytes += chunk.length));
    request.on("end", () => {
      counts.exports += 1;
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    counts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Figures {
  /**
   * Share of the run's time each process carried trace context across awaits (its
   * hub_trace_context_carried_seconds_total over the run), when it traces: meanwhile every
   * request of the process pays Node's promise hook.
   */
  contextCarriedShare: Record<string, number>;
  cpuPerRequestUs: number;
  cpuPerRequestUsByProcess: Record<string, number>;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

interface ModeResult extends Figures {
  mode: string;
  /**
   * The whole hub's CPU per request over the first mode's (off by default) in the same round, in
   * %, round by round.
   */
  overOffByRound: number[];
  atRateOverOffByRound: number[];
  /** The same figures at BENCH_TRACING_RATE requests per second. */
  atRate: Figures;
  exports: number;
  exportedKb: number;
}

/** One mode's hub: its own stack, gateway and collector stand-in, warmed up. */
async function startMode(mode: string, env: Record<string, string>, index: number) {
  const sink = await startSink();
  const firstPort = 4701 + index * 10;
  const stack = await startBenchStack({
    prefix: `trace${index}`,
    firstPort,
    personCount: 120,
    countDbCommands: false,
    env: Object.keys(env).length === 0 ? env : { ...env, HUB_OTLP_ENDPOINT: sink.url },
  });
  const gateway = stack.startOurGateway(firstPort - 1, [], { HUB_METRICS_TOKEN: METRICS_TOKEN });
  await waitForOk(`http://127.0.0.1:${firstPort - 1}/healthz`, 60_000, gateway);
  const workload = {
    name: "PersonCards (a different person each request)",
    cycle: 1,
    body: stack.bodies("PersonCardsVaried"),
  };
  const url = `http://127.0.0.1:${firstPort - 1}/graphql`;
  await load(stack, url, workload, JIT_WARMUP, null, CONNECTIONS);
  const metricsUrls = {
    gateway: `http://127.0.0.1:${firstPort - 1}/metrics`,
    ...Object.fromEntries(
      Object.entries(stack.subgraphUrls).map(([name, u]) => [name, new URL("/metrics", u).href]),
    ),
  };
  const carried = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(metricsUrls).map(async ([name, u]) => {
          const text = await (
            await fetch(u, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
          ).text();
          const line = text.split("\n").find((l) => l.startsWith(`${CARRIED} `));
          return [name, line ? Number(line.split(" ")[1]) : 0] as const;
        }),
      ),
    );
  const run = async (rate?: number): Promise<Sample & { carriedShare: Record<string, number> }> => {
    const before = await carried();
    const startedAt = performance.now();
    const sample = await load(
      stack,
      url,
      workload,
      DURATION,
      gateway.pid ?? null,
      rate === undefined ? CONNECTIONS : RATE_CONNECTIONS,
      rate,
    );
    const seconds = (performance.now() - startedAt) / 1000;
    const after = await carried();
    const carriedShare = Object.fromEntries(
      Object.entries(after).map(([name, value]) => [
        name,
        Math.round(((value - (before[name] ?? 0)) / seconds) * 1000) / 1000,
      ]),
    );
    return { ...sample, carriedShare };
  };
  return { mode, sink, stack, run };
}

/**
 * The modes of BENCH_TRACING_MODES: `off` (no tracing) or a sampling ratio each, the first the one
 * the others are compared with; a mode named twice is told apart by a suffix. `off,off,0.01` puts
 * the machine's own spread beside what 1% costs (two identical stacks, measured alike).
 */
function modesOf(list: string): [string, Record<string, string>][] {
  const seen = new Map<string, number>();
  return list.split(",").map((entry) => {
    const value = entry.trim();
    const ratio = Number(value);
    if (value !== "off" && !(ratio >= 0 && ratio <= 1))
      throw new Error(`BENCH_TRACING_MODES: "${value}" is neither off nor a ratio from 0 to 1`);
    const name = value === "off" ? "off" : `${round(ratio * 100)}%`;
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    const env: Record<string, string> = value === "off" ? {} : { HUB_TRACE_SAMPLE_RATIO: value };
    return [count === 1 ? name : `${name}#${count}`, env];
  });
}

/** The whole hub's CPU per request of a run (load.ts adds it, the database included). */
const wholeOf = (sample: Sample) => sample.cpuPerRequestUsByProcess?.["whole hub"] ?? 0;

/** The median of a mode's runs (the whole hub's CPU per request decides which is the middle). */
function figuresOf(runs: (Sample & { carriedShare: Record<string, number> })[]): Figures {
  const middle = [...runs].sort((a, b) => wholeOf(a) - wholeOf(b))[Math.floor(runs.length / 2)]!;
  return {
    contextCarriedShare: middle.carriedShare,
    cpuPerRequestUs: Math.round(median(runs.map(wholeOf))),
    cpuPerRequestUsByProcess: middle.cpuPerRequestUsByProcess ?? {},
    rps: Math.round(median(runs.map((r) => r.rps))),
    p50: round(median(runs.map((r) => r.p50))),
    p99: round(median(runs.map((r) => r.p99))),
    errors: sum(runs.map((r) => r.errors)),
  };
}

/**
 * `runs` over `off`'s, round by round (runs of one round are minutes apart at most), in %: the
 * spread of these says how far the machine moved the medians.
 */
function overOffByRound(runs: Sample[], off: Sample[]): number[] {
  return runs.map((run, index) => round((wholeOf(run) / wholeOf(off[index]!) - 1) * 100));
}

/**
 * The three modes run side by side, each on its own stack, and their rounds take turns, each
 * round in another order (off, 1%, 100%; then 1%, 100%, off; then 100%, off, 1%): a machine whose
 * speed drifts over minutes (a shared host) drifts under every mode alike, and no mode always
 * follows the same one (100%'s spans are still being exported as the next run starts). A stack
 * waiting for its turn is idle (its pollers only).
 */
async function main(): Promise<void> {
  const settings = modesOf(MODES);
  const modes: Awaited<ReturnType<typeof startMode>>[] = [];
  const results: ModeResult[] = [];
  try {
    for (const [index, [mode, env]] of settings.entries())
      modes.push(await startMode(mode, env, index));
    type Run = Awaited<ReturnType<(typeof modes)[number]["run"]>>;
    const saturated = new Map<string, Run[]>(modes.map((m) => [m.mode, []]));
    const atRate = new Map<string, Run[]>(modes.map((m) => [m.mode, []]));
    const before = modes.map((m) => ({ ...m.sink.counts }));
    const inTurn = (round: number) => modes.map((_, i) => modes[(i + round) % modes.length]!);
    for (let round = 0; round < ROUNDS; round += 1)
      for (const m of inTurn(round)) saturated.get(m.mode)!.push(await m.run());
    const exported = modes.map((m) => ({ ...m.sink.counts }));
    for (let round = 0; round < ROUNDS; round += 1)
      for (const m of inTurn(round)) atRate.get(m.mode)!.push(await m.run(RATE));
    for (const [index, m] of modes.entries()) {
      const result: ModeResult = {
        mode: m.mode,
        ...figuresOf(saturated.get(m.mode)!),
        atRate: figuresOf(atRate.get(m.mode)!),
        overOffByRound: overOffByRound(saturated.get(m.mode)!, saturated.get(modes[0]!.mode)!),
        atRateOverOffByRound: overOffByRound(atRate.get(m.mode)!, atRate.get(modes[0]!.mode)!),
        exports: exported[index]!.exports - before[index]!.exports,
        exportedKb: Math.round((exported[index]!.bytes - before[index]!.bytes) / 1024),
      };
      results.push(result);
      console.log(
        `${m.mode.padEnd(5)} ${String(result.cpuPerRequestUs).padStart(6)} µs CPU/request (whole hub)  ` +
          `${result.rps} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}  ` +
          `exports ${result.exports} (${result.exportedKb} KB); at ${RATE} req/s ` +
          `${result.atRate.cpuPerRequestUs} µs  p50 ${result.atRate.p50} ms  p99 ${result.atRate.p99} ms\n` +
          `      context carried (share of time): as fast as answered ${JSON.stringify(result.contextCarriedShare)}, ` +
          `at ${RATE} req/s ${JSON.stringify(result.atRate.contextCarriedShare)}`,
      );
    }
  } finally {
    for (const m of modes.reverse()) {
      await m.stack.stop();
      await m.sink.close();
    }
  }
  const off = results[0]!;
  for (const result of results.slice(1)) {
    const over = (now: number, then: number) => round(((now - then) / then) * 100);
    console.log(
      `${result.mode}: ${over(result.cpuPerRequestUs, off.cpuPerRequestUs)}% CPU per request over ${off.mode} ` +
        `as fast as answered (round by round ${result.overOffByRound.join(", ")}), ` +
        `${over(result.atRate.cpuPerRequestUs, off.atRate.cpuPerRequestUs)}% at ${RATE} req/s ` +
        `(round by round ${result.atRateOverOffByRound.join(", ")})`,
    );
  }
  await mkdir(join(root, "bench", "results"), { recursive: true });
  const file = join(
    root,
    "bench",
    "results",
    `${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}-tracing.json`,
  );
  await writeFile(
    file,
    JSON.stringify(
      {
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        settings: { DURATION, ROUNDS, CONNECTIONS, JIT_WARMUP, RATE, RATE_CONNECTIONS, MODES },
        results,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`written ${file}`);
}

await main();
process.exit(0);
