import "reflect-metadata";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { bundle, spawnBundle, waitForOk } from "@hub/harness/processes";
import { coldStart } from "./cold-start.js";
import { load as loadOn, type Sample, type Workload } from "./load.js";
import { untilOutboxesEmpty } from "./outboxes.js";
import { peakRssMb } from "./proc.js";
import { mutationMix } from "./mutation-mix.js";
import { medianTable, ratiosOf } from "./run-table.js";
import { root, startBenchStack, type BenchStack } from "./stack.js";

/**
 * `npm run bench`: the hub query and others against (a) our Hive-based gateway, (b) @apollo/gateway
 * on the same supergraph and subgraphs, (c) the direct-fetch floor; alternating targets over
 * rounds, as these machines are noisy. Writes bench/results/<date>.json and prints a table.
 * Settings: BENCH_DURATION (s, default 8), BENCH_ROUNDS (3), BENCH_CONNECTIONS (20),
 * BENCH_DB_COMMANDS=on (count MongoDB commands; costs the subgraphs CPU, so off by default);
 * BENCH_JIT_WARMUP (s per target and read workload before the rounds, default 20);
 * BENCH_ONLY (a workload name contains it) and BENCH_TARGETS (comma-separated target names)
 * measure a part only, without the cold-start runs, into `<date>-partial.json`.
 */
const DURATION = Number(process.env["BENCH_DURATION"] ?? 8);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 20);
const ONLY = process.env["BENCH_ONLY"];
const TARGETS = process.env["BENCH_TARGETS"]?.split(",").map((t) => t.trim());
const PARTIAL = Boolean(ONLY || TARGETS);
const WARMUP = 2;
/**
 * Seconds each target serves each read workload before the first round. V8 keeps compiling hot
 * functions for tens of seconds after a process starts (its compiler threads were a fifth of a
 * subgraph's CPU 10–15 s in, under 4% after 45 s): without this, the first rounds measure start-up
 * rather than the steady state a production process spends its life in.
 */
const JIT_WARMUP = Number(process.env["BENCH_JIT_WARMUP"] ?? 20);

let stack: BenchStack | undefined;
let subgraphUrls: Record<string, string> = {};

/**
 * Waits (bounded) until no subgraph has cross-subgraph events waiting: the relay delivering the
 * mutation mix's events would otherwise compete for the two cores with the next measurement.
 */
const outboxesDrained = () => untilOutboxesEmpty(subgraphUrls, 120_000, 500);

/** One load of `workload` on the stack (see load.ts), over BENCH_CONNECTIONS by default. */
const load = (
  url: string,
  workload: Workload,
  seconds: number,
  pid: number | null,
  connections = CONNECTIONS,
) => loadOn(stack!, url, workload, seconds, pid, connections);

async function main(): Promise<void> {
  // CPU as production spends it: no command monitoring in the subgraphs, unless
  // BENCH_DB_COMMANDS=on asks for the DB command columns (`npm run bench:writes` counts the write
  // path's; test/src/persons-batch.test.ts asserts the reads').
  const countDbCommands = process.env["BENCH_DB_COMMANDS"] === "on";
  stack = await startBenchStack({
    prefix: "bench",
    firstPort: 4501,
    personCount: 120,
    countDbCommands,
  });
  subgraphUrls = stack.subgraphUrls;
  await bundle(
    join(root, "bench", "src", "floor-server.ts"),
    join(root, "bench", "floor", "dist", "main.mjs"),
  );
  // Both gateways run as they would in production (NODE_ENV=production: graphql-js skips its
  // development-only checks).
  const ours = stack.startOurGateway(4600);
  const apollo = await stack.startApolloGateway(4601);
  const floor = stack.own(
    spawnBundle(join(root, "bench", "floor"), {
      PORT: "4602",
      SUBGRAPH_URLS: JSON.stringify(subgraphUrls),
    }),
  );
  await waitForOk("http://127.0.0.1:4600/healthz", 60_000, ours);
  await new Promise((resolve) => setTimeout(resolve, 3_000));

  const mix = mutationMix(stack, CONNECTIONS);
  const allWorkloads: Workload[] = [
    { name: "PersonCards (person with duplicates)", cycle: 1, body: stack.bodies("PersonCards") },
    {
      // Every connection asking for the same person lets the gateway share in-flight subgraph
      // fetches; real desks ask about different people, which this workload shows.
      name: "PersonCards (a different person each request)",
      cycle: 1,
      body: stack.bodies("PersonCardsVaried"),
    },
    { name: "PersonsByIds (100 ids)", cycle: 1, body: stack.bodies("PersonsByIds") },
    mix.workload,
  ];
  const workloads = allWorkloads.filter((w) => !ONLY || w.name.includes(ONLY));
  const allTargets = [
    { name: "hive (ours)", url: "http://127.0.0.1:4600/graphql", pid: ours.pid ?? null },
    { name: "@apollo/gateway", url: "http://127.0.0.1:4601/graphql", pid: apollo.pid ?? null },
    {
      name: "floor (direct fetches)",
      url: "http://127.0.0.1:4602/graphql",
      pid: floor.pid ?? null,
    },
  ];
  const targets = allTargets.filter((t) => !TARGETS || TARGETS.includes(t.name));

  // DB round trips must not grow with the number of ids (measured through our gateway, one
  // request at a time: concurrent identical requests share subgraph fetches, which would hide
  // the per-request count).
  const dbFor = async (n: number) =>
    (
      await load(
        allTargets[0]!.url,
        {
          name: `ids ${n}`,
          cycle: 1,
          body: stack!.bodies("PersonsByIds", n),
        },
        2,
        null,
        1,
      )
    ).dbCommandsPerRequest;
  const dbCommands10 = await dbFor(10);
  const dbCommands100 = await dbFor(100);

  for (const target of targets)
    for (const workload of workloads.filter((w) => w.cycle === 1)) {
      await load(target.url, workload, JIT_WARMUP, null);
      console.log(`warmed ${target.name} with ${workload.name} for ${JIT_WARMUP} s`);
    }

  const samples: Record<string, Record<string, Sample[]>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const workload of workloads) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        if (workload.cycle > 1) await mix.resetCards(allTargets[0]!.url);
        // Each connection keeps its own card for the whole run: no two connections share one.
        mix.rewind();
        await load(target.url, workload, WARMUP, null);
        if (workload.cycle > 1) {
          await mix.resetCards(allTargets[0]!.url);
          mix.rewind();
        }
        await outboxesDrained();
        const sample = await load(target.url, workload, DURATION, target.pid);
        ((samples[workload.name] ??= {})[target.name] ??= []).push(sample);
        console.log(
          `round ${round + 1} ${workload.name} ${target.name}: ${sample.rps} rps, p50 ${sample.p50} ms, cpu ${sample.cpuPerRequestUs} µs/req, errors ${sample.errors}`,
        );
      }
    }
  }

  const table = medianTable(samples);
  const peak = {
    "hive (ours)": ours.pid ? peakRssMb(ours.pid) : null,
    "@apollo/gateway": apollo.pid ? peakRssMb(apollo.pid) : null,
  };
  const ratios = ratiosOf(table);
  await stack.stop();
  const cold = PARTIAL ? { medianSeconds: null, runs: [] } : await coldStart();

  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    settings: {
      durationSeconds: DURATION,
      warmupSeconds: WARMUP,
      jitWarmupSeconds: JIT_WARMUP,
      rounds: ROUNDS,
      connections: CONNECTIONS,
      only: ONLY ?? null,
      targets: TARGETS ?? null,
    },
    results: table,
    ratios,
    peakRssMb: peak,
    dbCommandsPerRequest: { personsByIds10: dbCommands10, personsByIds100: dbCommands100 },
    coldStartSeconds: cold.medianSeconds,
    coldStartRuns: cold.runs,
  };
  await mkdir(join(root, "bench", "results"), { recursive: true });
  const file = join(
    root,
    "bench",
    "results",
    `${result.date.slice(0, 10)}${PARTIAL ? "-partial" : ""}.json`,
  );
  await writeFile(file, JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
}

try {
  await main();
} finally {
  await stack?.stop();
}
