/**
 * `npm run profile -w @hub/bench -- <workload> [seconds] [target]`: runs one workload against one
 * gateway started with `node --cpu-prof`, then writes the raw profile (open it in Chrome DevTools
 * or speedscope for a flame graph) and a self-time summary by package and function to
 * bench/results/profiles/. Workloads: PersonCards (the showcase person with duplicates, every
 * request), PersonCardsVaried (a different person each request), PersonsByIds (100 ids). Targets:
 * ours (default), apollo (the gateways), or a subgraph (persons, cards, passwords, bank-accounts)
 * profiled while our gateway serves the workload. Every run also prints each process's CPU per
 * request. BENCH_WARMUP (s, default 30) of load come first, so the JIT has settled;
 * BENCH_PROFILER=perf samples every process with Linux perf instead (on-CPU time by package,
 * GC and compiler threads included; perf-summary.ts) into profiles/perf-<workload>.json.
 */
import "reflect-metadata";
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import autocannon from "autocannon";
import { stopProcess } from "@hub/harness/processes";
import { summarise, type CpuProfile } from "./cpu-profile-summary.js";
import { summarisePerf } from "./perf-summary.js";
import { cpuMs, peakRssMb, rssMb } from "./proc.js";
import { root, startBenchStack, type ReadWorkload } from "./stack.js";

/** Waits until something answers HTTP at the URL (Apollo Server 5 has no health endpoint). */
async function waitForListening(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { method: "POST" });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** `perf record` of every CPU for `seconds` (cpu-clock: only threads on a CPU are sampled). */
function recordPerf(file: string, seconds: number): Promise<void> {
  const perf = spawn(
    "perf",
    [
      "record",
      "-a",
      "-g",
      "-e",
      "cpu-clock",
      "-F",
      "999",
      "-o",
      file,
      "--",
      "sleep",
      String(seconds),
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    perf.once("error", () =>
      reject(
        new Error("BENCH_PROFILER=perf needs Linux perf (Debian: apt-get install linux-perf)"),
      ),
    );
    perf.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`perf record exited with ${code}`)),
    );
  });
}

/** The samples as text, with the JavaScript frames named from each process's perf map. */
function perfScript(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const perf = spawn("perf", ["script", "-F", "comm,pid,tid,ip,sym,dso", "-i", file], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const chunks: Buffer[] = [];
    perf.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    perf.once("error", reject);
    perf.once("exit", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

const [workload = "PersonCards", secondsArg = "15", target = "ours"] = process.argv.slice(2);
const WORKLOADS: readonly ReadWorkload[] = ["PersonCards", "PersonCardsVaried", "PersonsByIds"];
if (!WORKLOADS.includes(workload as ReadWorkload))
  throw new Error(`unknown workload ${workload}; one of ${WORKLOADS.join(", ")}`);
const seconds = Number(secondsArg);
const outDir = join(root, "bench", "results", "profiles");
const rawDir = join(outDir, `${target}-${workload}`);
await rm(rawDir, { recursive: true, force: true });
await mkdir(rawDir, { recursive: true });

const SUBGRAPH_TARGETS = ["persons", "cards", "passwords", "bank-accounts"];
const subgraphTarget = SUBGRAPH_TARGETS.includes(target);
// BENCH_NODE_FLAGS: extra flags for the profiled process (memory experiments, for instance).
const extraFlags = (process.env["BENCH_NODE_FLAGS"] ?? "").split(" ").filter(Boolean);
// BENCH_PROFILER=perf: every process sampled on its CPU time by Linux perf (perf-summary.ts says
// why); BENCH_CPU_PROF=off: no profiler (its sampling costs CPU itself), figures only.
const usePerf = process.env["BENCH_PROFILER"] === "perf";
const profiling = !usePerf && process.env["BENCH_CPU_PROF"] !== "off";
const profileFlags = [
  ...(profiling ? [`--cpu-prof`, `--cpu-prof-dir=${rawDir}`] : []),
  ...(usePerf ? ["--perf-basic-prof"] : []),
  ...extraFlags,
];
const perfFlags = usePerf ? ["--perf-basic-prof"] : [];
const spawnedAt = Date.now();
const stack = await startBenchStack({
  prefix: "profile",
  firstPort: 4521,
  personCount: 120,
  // As production runs: the driver's command monitoring alone costs a subgraph ~0.25 ms per call.
  countDbCommands: false,
  subgraphNodeOptions: Object.fromEntries(
    SUBGRAPH_TARGETS.map((name) => [name, name === target ? profileFlags : perfFlags]),
  ),
});
try {
  const port = 4620;
  const gateway =
    target === "apollo"
      ? await stack.startApolloGateway(port, profileFlags)
      : stack.startOurGateway(port, subgraphTarget ? perfFlags : profileFlags);
  const profiled = subgraphTarget ? stack.pids[target]! : gateway.pid!;
  const body = stack.bodies(workload as ReadWorkload);
  const run = (duration: number, options: Partial<autocannon.Options> = {}) =>
    autocannon({
      url: `http://127.0.0.1:${port}/graphql`,
      connections: 20,
      duration,
      method: "POST",
      headers: stack.headers,
      requests: [{ setupRequest: (request: object) => ({ ...request, body: body() }) }],
      ...options,
    });
  await waitForListening(`http://127.0.0.1:${port}/graphql`, 60_000);
  const idleRss = rssMb(profiled);
  // The profile and figures are of the steady state a long-running process reaches: V8 compiles
  // hot functions for tens of seconds after start (its compiler threads were 18–24% of a
  // subgraph's CPU in the first 15 s, 0–4% after 45 s; perf, 2026-12-01). BENCH_WARMUP seconds.
  await run(Number(process.env["BENCH_WARMUP"] ?? 30));
  const loadStartedMs = Date.now() - spawnedAt;
  const before = cpuMs(profiled);
  const processes = { gateway: gateway.pid!, ...stack.pids };
  const processesBefore = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, cpuMs(pid)]),
  );
  const perfData = join(rawDir, "perf.data");
  const recording = usePerf ? recordPerf(perfData, seconds) : null;
  const result = await run(seconds, {
    connections: Number(process.env["BENCH_CONNECTIONS"] ?? 20),
    // BENCH_RATE: a fixed request rate (req/s) below saturation gives steadier CPU per request
    // than an all-out run, whose figure moves with the CPU share the OS gives the gateway.
    ...(process.env["BENCH_RATE"] ? { overallRate: Number(process.env["BENCH_RATE"]) } : {}),
  });
  const cpuPerRequest = (cpuMs(profiled) - before) / Math.max(1, result.requests.total);
  const cpuMsPerRequestByProcess = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [
      name,
      Math.round(
        ((cpuMs(pid) - processesBefore[name]!) / Math.max(1, result.requests.total)) * 100,
      ) / 100,
    ]),
  );
  console.table(cpuMsPerRequestByProcess);
  if (recording) {
    await recording;
    const summary = summarisePerf(await perfScript(perfData), processes);
    const reportFile = join(outDir, `perf-${workload}.json`);
    await writeFile(
      reportFile,
      JSON.stringify({ workload, seconds, cpuMsPerRequestByProcess, summary }, null, 2) + "\n",
    );
    for (const [name, cpu] of Object.entries(summary)) {
      console.log(`${name}: ${cpu.samples} samples`);
      console.table(cpu.byPackage.slice(0, 12));
    }
    console.log(`written to ${reportFile}`);
  }
  const memory = { idleRssMb: idleRss, peakRssMb: peakRssMb(profiled) };
  await stopProcess(gateway);
  // A subgraph writes its profile when it exits.
  if (subgraphTarget) await stack.stop();
  if (!profiling) {
    console.log(
      `${target} ${workload}: ${result.requests.total} requests, ` +
        `${Math.round(cpuPerRequest * 100) / 100} ms CPU/request, ` +
        `RSS ${memory.idleRssMb} MB idle, ${memory.peakRssMb} MB peak`,
    );
  } else {
    const [file] = (await readdir(rawDir)).filter((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`${target} wrote no profile`);
    const summary = summarise(
      JSON.parse(await readFile(join(rawDir, file), "utf8")) as CpuProfile,
      loadStartedMs,
    );
    const report = {
      target,
      workload,
      seconds,
      requests: result.requests.total,
      non2xx: result.non2xx,
      statusCodes: result.statusCodeStats,
      cpuMsPerRequest: Math.round(cpuPerRequest * 100) / 100,
      cpuMsPerRequestByProcess,
      ...memory,
      profile: join("bench", "results", "profiles", `${target}-${workload}`, file),
      ...summary,
    };
    const reportFile = join(outDir, `${target}-${workload}.json`);
    await writeFile(reportFile, JSON.stringify(report, null, 2) + "\n");
    console.log(
      `${target} ${workload}: ${report.requests} requests, ${report.cpuMsPerRequest} ms CPU/request, ` +
        `RSS ${memory.idleRssMb} MB idle, ${memory.peakRssMb} MB peak`,
    );
    console.table(summary.byPackage.slice(0, 15));
    console.table(summary.byCallerPackage.slice(0, 15));
    console.table(summary.byFunction.slice(0, 25));
    console.table(summary.inclusive.slice(0, 40));
    console.log(`written to ${reportFile}`);
  }
} finally {
  await stack.stop();
}
