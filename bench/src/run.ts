import "reflect-metadata";
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { siblingUrl } from "@hub/kit";
import { bundle } from "../../scripts/build.js";
import { spawnBundle, waitForOk } from "../../scripts/lib/processes.js";
import { outboxLag as outboxesNow, percentile, untilOutboxesEmpty } from "./outboxes.js";
import { cpuMs, peakRssMb } from "./proc.js";
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

/** MongoDB commands so far over all subgraphs; NaN when they are not counted (BENCH_DB_COMMANDS). */
async function dbCommands(): Promise<number> {
  let total = 0;
  for (const url of Object.values(subgraphUrls)) {
    const response = await fetch(siblingUrl(url, "/dbstats"));
    if (!response.ok) return Number.NaN;
    total += ((await response.json()) as { commands: number }).commands;
  }
  return total;
}

/**
 * Waits (bounded) until no subgraph has cross-subgraph events waiting: the relay delivering the
 * mutation mix's events would otherwise compete for the two cores with the next measurement.
 */
const outboxesDrained = () => untilOutboxesEmpty(subgraphUrls, 120_000, 500);

interface Workload {
  name: string;
  /** Builds each request body; `context` is per connection. */
  body: (context: Record<string, unknown>, index: number) => string;
  /** Requests a connection cycles through (mutations need an order: loss before withdrawal). */
  cycle: number;
}

const outboxLag = () => outboxesNow(subgraphUrls);

/** Outbox lag sampled every 250 ms during a run, and once 2 s after it. */
interface LagSample {
  maxOldestPendingMs: number;
  maxPending: number;
  twoSecondsAfter: { pending: number; oldestPendingMs: number };
}

interface Sample {
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

async function load(
  url: string,
  workload: Workload,
  seconds: number,
  pid: number | null,
  connections = CONNECTIONS,
): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  const commandsBefore = await dbCommands();
  const cpuBefore = pid ? cpuMs(pid) : 0;
  const processes: Record<string, number> = pid ? { gateway: pid, ...stack!.pids } : {};
  const processCpuBefore = Object.fromEntries(
    Object.entries(processes).map(([name, id]) => [name, cpuMs(id)]),
  );
  // Writes: how far the cross-subgraph events fall behind while the load lasts.
  const lag = workload.cycle > 1 ? { maxOldestPendingMs: 0, maxPending: 0 } : null;
  let sampling = lag !== null;
  const sampler = (async () => {
    while (sampling && lag) {
      const now = await outboxLag();
      lag.maxOldestPendingMs = Math.max(lag.maxOldestPendingMs, now.oldestPendingMs);
      lag.maxPending = Math.max(lag.maxPending, now.pending);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const options = {
    url,
    connections,
    duration: seconds,
    method: "POST",
    headers: stack!.headers,
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
    ? await new Promise((resolve) => setTimeout(resolve, 2_000)).then(outboxLag)
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
      Math.round((((await dbCommands()) - commandsBefore) / Math.max(1, requests)) * 100) / 100,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function coldStartOnce(): Promise<number | null> {
  const started = Date.now();
  const child = spawn("npm", ["start"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: "4700",
      PERSONS_PORT: "4701",
      CARDS_PORT: "4702",
      PASSWORDS_PORT: "4703",
      BANK_ACCOUNTS_PORT: "4704",
      MONGODB_URI: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const up = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 90_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Card-status hub is up")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once("exit", () => resolve(false));
  });
  const seconds = (Date.now() - started) / 1000;
  if (child.pid) process.kill(-child.pid, "SIGINT");
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return up ? Math.round(seconds * 10) / 10 : null;
}

/**
 * `npm start` to its first answered query, three times on a machine left idle for a few seconds
 * first (the bench's own processes have just stopped); the median is reported.
 */
async function coldStart(): Promise<{ medianSeconds: number | null; runs: (number | null)[] }> {
  const runs: (number | null)[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    runs.push(await coldStartOnce());
  }
  const measured = runs.filter((r): r is number => r !== null);
  return { medianSeconds: measured.length === 3 ? median(measured) : null, runs };
}

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
  const demo = stack.demo;
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

  const doc = (name: string) => stack!.document(name);
  // Cards in use without a password record: the initial password (123456) verifies.
  const passwordCards = new Set(demo.cardPasswords.map((p) => p._id));
  const usable = demo.cards
    .filter((c) => c.status === "NORMAL" && !passwordCards.has(c._id))
    .map((c) => c._id);
  if (usable.length < CONNECTIONS)
    throw new Error(
      `the mutation mix needs ${CONNECTIONS} cards with the initial password, the demo data has ${usable.length}`,
    );
  let cardCursor = 0;
  let key = 0;
  const mutationSteps = [
    (cardId: string) => ({
      query: doc("EnableSocialSecurityFunction"),
      operationName: "EnableSocialSecurityFunction",
      variables: { input: { cardId, idempotencyKey: `b-${key++}` } },
    }),
    (cardId: string) => ({
      query: doc("VerifyCardPassword"),
      operationName: "VerifyCardPassword",
      variables: { input: { cardId, password: "123456" } },
    }),
    (cardId: string) => ({
      query: doc("ReportCardLoss"),
      operationName: "ReportCardLoss",
      variables: { input: { cardId, temporary: true, idempotencyKey: `b-${key++}` } },
    }),
    (cardId: string) => ({
      query: doc("WithdrawLossReport"),
      operationName: "WithdrawLossReport",
      variables: { input: { cardId, idempotencyKey: `b-${key++}` } },
    }),
  ];
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
    {
      name: "mutation mix (enable, verify password, report loss, withdraw)",
      cycle: mutationSteps.length,
      body: (context, index) => {
        context["card"] ??= usable[cardCursor++ % usable.length];
        return JSON.stringify(mutationSteps[index]!(String(context["card"])));
      },
    },
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

  /** Every card the mutation mix uses starts from NORMAL (a run may stop between loss and withdrawal). */
  const resetMutationCards = async () => {
    for (const cardId of usable) {
      await fetch(allTargets[0]!.url, {
        method: "POST",
        headers: stack!.headers,
        body: JSON.stringify({
          query: doc("WithdrawLossReport"),
          variables: { input: { cardId } },
        }),
      });
    }
  };

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
        if (workload.cycle > 1) await resetMutationCards();
        // Each connection keeps its own card for the whole run: no two connections share one.
        cardCursor = 0;
        await load(target.url, workload, WARMUP, null);
        if (workload.cycle > 1) {
          await resetMutationCards();
          cardCursor = 0;
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

  const table: Record<
    string,
    Record<string, Record<string, number | null | LagSample | Record<string, number>>>
  > = {};
  for (const [workload, byTarget] of Object.entries(samples)) {
    for (const [target, list] of Object.entries(byTarget)) {
      (table[workload] ??= {})[target] = {
        rps: median(list.map((s) => s.rps)),
        p50: median(list.map((s) => s.p50)),
        p95: median(list.map((s) => s.p95)),
        p99: median(list.map((s) => s.p99)),
        errors: list.reduce((sum, s) => sum + s.errors, 0),
        cpuPerRequestUs:
          list[0]?.cpuPerRequestUs === null
            ? null
            : median(list.map((s) => s.cpuPerRequestUs ?? 0)),
        dbCommandsPerRequest: median(list.map((s) => s.dbCommandsPerRequest)),
        ...(list[0]?.cpuPerRequestUsByProcess
          ? {
              cpuPerRequestUsByProcess: Object.fromEntries(
                Object.keys(list[0].cpuPerRequestUsByProcess).map((name) => [
                  name,
                  median(list.map((s) => s.cpuPerRequestUsByProcess?.[name] ?? 0)),
                ]),
              ),
            }
          : {}),
        ...(list[0]?.lag
          ? {
              // The worst round: the lag goal holds only if it holds throughout.
              lag: list
                .map((s) => s.lag!)
                .reduce((worst, l) =>
                  l.maxOldestPendingMs > worst.maxOldestPendingMs ? l : worst,
                ),
            }
          : {}),
      };
    }
  }
  const peak = {
    "hive (ours)": ours.pid ? peakRssMb(ours.pid) : null,
    "@apollo/gateway": apollo.pid ? peakRssMb(apollo.pid) : null,
  };
  const ratios = Object.fromEntries(
    Object.entries(table).map(([workload, t]) => {
      const none = {} as Record<string, number | null>;
      const figures = (target: string) => (t[target] ?? none) as Record<string, number | null>;
      const o = figures("hive (ours)");
      const a = figures("@apollo/gateway");
      const f = figures("floor (direct fetches)");
      return [
        workload,
        {
          rpsOursOverApollo: Math.round(((o["rps"] ?? 0) / Math.max(1, a["rps"] ?? 1)) * 100) / 100,
          cpuApolloOverOurs:
            Math.round(
              ((a["cpuPerRequestUs"] ?? 0) / Math.max(1, o["cpuPerRequestUs"] ?? 1)) * 100,
            ) / 100,
          p50OursOverFloor:
            Math.round(((o["p50"] ?? 0) / Math.max(0.001, f["p50"] ?? 1)) * 100) / 100,
        },
      ];
    }),
  );
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
