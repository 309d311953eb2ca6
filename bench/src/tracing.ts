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
 * sampling 100% of traces (issue 26), exporting to a collector stand-in in this process that
 * answers every export at once. Each mode runs on a stack of its own, started with its settings:
 * BENCH_JIT_WARMUP s (default 20) of load first, then BENCH_ROUNDS (3) runs of BENCH_DURATION s
 * (8) over BENCH_CONNECTIONS (20); the median run counts. Writes bench/results/<date>-tracing.json.
 */
const DURATION = Number(process.env["BENCH_DURATION"] ?? 8);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 20);
const JIT_WARMUP = Number(process.env["BENCH_JIT_WARMUP"] ?? 20);

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

interface ModeResult {
  mode: string;
  cpuPerRequestUs: number;
  cpuPerRequestUsByProcess: Record<string, number>;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  exports: number;
  exportedKb: number;
}

async function measure(
  mode: string,
  env: Record<string, string>,
  sinkCounts: {
    exports: number;
    bytes: number;
  },
): Promise<ModeResult> {
  const stack = await startBenchStack({
    prefix: "trace",
    firstPort: 4701,
    personCount: 120,
    countDbCommands: false,
    env,
  });
  try {
    const gateway = stack.startOurGateway(4700);
    await waitForOk("http://127.0.0.1:4700/healthz", 60_000, gateway);
    const workload = {
      name: "PersonCards (a different person each request)",
      cycle: 1,
      body: stack.bodies("PersonCardsVaried"),
    };
    const url = "http://127.0.0.1:4700/graphql";
    await load(stack, url, workload, JIT_WARMUP, null, CONNECTIONS);
    const before = { ...sinkCounts };
    const runs: Sample[] = [];
    for (let round = 0; round < ROUNDS; round += 1)
      runs.push(await load(stack, url, workload, DURATION, gateway.pid ?? null, CONNECTIONS));
    // load.ts adds the sum over the hub's processes as "whole hub" (the database included).
    const whole = (sample: Sample) => sample.cpuPerRequestUsByProcess?.["whole hub"] ?? 0;
    const middle = [...runs].sort((a, b) => whole(a) - whole(b))[Math.floor(runs.length / 2)]!;
    return {
      mode,
      cpuPerRequestUs: Math.round(median(runs.map(whole))),
      cpuPerRequestUsByProcess: middle.cpuPerRequestUsByProcess ?? {},
      rps: Math.round(median(runs.map((r) => r.rps))),
      p50: round(median(runs.map((r) => r.p50))),
      p99: round(median(runs.map((r) => r.p99))),
      errors: sum(runs.map((r) => r.errors)),
      exports: sinkCounts.exports - before.exports,
      exportedKb: Math.round((sinkCounts.bytes - before.bytes) / 1024),
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const sink = await startSink();
  const modes: [string, Record<string, string>][] = [
    ["off", {}],
    ["1%", { HUB_OTLP_ENDPOINT: sink.url, HUB_TRACE_SAMPLE_RATIO: "0.01" }],
    ["100%", { HUB_OTLP_ENDPOINT: sink.url, HUB_TRACE_SAMPLE_RATIO: "1" }],
  ];
  const results: ModeResult[] = [];
  try {
    for (const [mode, env] of modes) {
      const result = await measure(mode, env, sink.counts);
      results.push(result);
      console.log(
        `${mode.padEnd(5)} ${String(result.cpuPerRequestUs).padStart(6)} µs CPU/request (whole hub)  ` +
          `${result.rps} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}  ` +
          `exports ${result.exports} (${result.exportedKb} KB)`,
      );
    }
  } finally {
    await sink.close();
  }
  const off = results[0]!.cpuPerRequestUs;
  for (const result of results.slice(1))
    console.log(
      `${result.mode}: ${round(((result.cpuPerRequestUs - off) / off) * 100)}% CPU per request over off`,
    );
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
        settings: { DURATION, ROUNDS, CONNECTIONS, JIT_WARMUP },
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
