import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connectMongo, generateDevSecret } from "@hub/kit";
import { startReplicaTopology, type ReplicaTopology } from "../replica-topology.js";
import { HubClient } from "./client.js";
import {
  checkInvariants,
  databases,
  waitForDrain,
  type InvariantResult,
  type Pending,
} from "./invariants.js";
import { killReplicas, type Kill } from "./killer.js";
import { Ledger, type FailedRequest, type OperationStats, type TimedRequest } from "./ledger.js";
import { ChaosClient } from "./workload.js";

export interface ChaosOptions {
  seconds: number;
  clients: number;
  killEveryMs: number;
  /** How long a killed replica stays dead before it is started again. */
  deadMs: number;
  drainSeconds: number;
  minKills: number;
  logLevel: string;
  mongoUri?: string;
}

export interface ChaosSummary {
  kind: "chaos";
  startedAt: string;
  /** The code under test: HEAD, and how many files differed from it (others edit as it runs). */
  code: { commit: string; changedFiles: number };
  options: ChaosOptions;
  startupMs: number;
  durationMs: number;
  requests: ReturnType<Ledger["totals"]> & { retries: number; pendingEffects: number };
  operations: Record<string, OperationStats>;
  kills: Kill[];
  killsByService: Record<string, number>;
  drain: { ms: number | null; boundMs: number; pendingAtEnd: Pending };
  invariants: InvariantResult[];
  passed: boolean;
  failures: FailedRequest[];
  transactions: TimedRequest[];
}

const number = (env: NodeJS.ProcessEnv, name: string, fallback: number) =>
  env[name] ? Number(env[name]) : fallback;

/** HUB_CHAOS_* settings (see docs/chaos.md). */
export function chaosOptionsFromEnv(env: NodeJS.ProcessEnv): ChaosOptions {
  const seconds = number(env, "HUB_CHAOS_SECONDS", 60);
  return {
    seconds,
    clients: number(env, "HUB_CHAOS_CLIENTS", 4),
    killEveryMs: number(env, "HUB_CHAOS_KILL_EVERY_MS", 4_500),
    deadMs: number(env, "HUB_CHAOS_DEAD_MS", 1_000),
    drainSeconds: number(env, "HUB_CHAOS_DRAIN_SECONDS", 60),
    // Ten in a minute (the issue's figure); a shorter run at least one of each kind.
    minKills: number(env, "HUB_CHAOS_MIN_KILLS", Math.max(4, Math.floor(seconds / 6))),
    logLevel: env["HUB_CHAOS_LOG_LEVEL"] ?? "error",
    ...(env["MONGODB_URI"] ? { mongoUri: env["MONGODB_URI"] } : {}),
  };
}

function codeUnderTest(): ChaosSummary["code"] {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      return "";
    }
  };
  return {
    commit: git("rev-parse", "HEAD").trim(),
    changedFiles: git("status", "--porcelain").split("\n").filter(Boolean).length,
  };
}

async function replicasReady(topology: ReplicaTopology): Promise<Record<string, boolean>> {
  const ready: Record<string, boolean> = {};
  for (const replica of topology.replicas)
    ready[replica.name] = await fetch(`http://127.0.0.1:${replica.port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
  return ready;
}

/**
 * The whole run: the replicas topology on a fresh database (no demo data, so every document in it
 * was written by this run's clients), clients and the killer for `seconds`, then the wait for the
 * outboxes to drain and the invariants, read from the databases directly.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const secret = generateDevSecret();
  const bootAt = Date.now();
  const topology = await startReplicaTopology({
    secret,
    replicas: 2,
    seed: false,
    dbPrefix: `chaos${Date.now().toString(36)}`,
    logLevel: options.logLevel,
    ...(options.mongoUri ? { mongoUri: options.mongoUri } : {}),
  });
  // Ctrl-C or a test runner's timeout: no replica outlives the run.
  const abort = () => void topology.stop().then(() => process.exit(130));
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  const mongo = await connectMongo(topology.mongoUri);
  try {
    const dbs = databases(mongo, topology.dbPrefix);
    const runId = Date.now().toString(36);
    const hubs = await Promise.all(
      Array.from({ length: options.clients }, (_, i) =>
        HubClient.create(topology.url, secret, `chaos-client-${i}`),
      ),
    );
    const startupMs = Date.now() - bootAt;
    const startedAt = Date.now();
    const until = startedAt + options.seconds * 1_000;
    const ledger = new Ledger(startedAt);
    const killing = killReplicas(topology, {
      startedAt,
      until,
      everyMs: options.killEveryMs,
      deadMs: options.deadMs,
    });
    await Promise.all(hubs.map((hub, i) => new ChaosClient(i, hub, ledger, runId).run(until)));
    const durationMs = Date.now() - startedAt;
    const kills = await killing;
    // Measured once every replica is back: what is left is the relays' and sweeps' work.
    const drain = await waitForDrain(dbs, options.drainSeconds * 1_000);
    const invariants = await checkInvariants({
      dbs,
      ledger,
      pending: drain.pending,
      kills,
      clients: options.clients,
      minKills: options.minKills,
      replicasReady: await replicasReady(topology),
    });
    const killsByService: Record<string, number> = {};
    for (const kill of kills)
      killsByService[kill.service] = (killsByService[kill.service] ?? 0) + 1;
    const operations = Object.fromEntries(ledger.operations);
    const stats = [...ledger.operations.values()];
    return {
      kind: "chaos",
      startedAt: new Date(startedAt).toISOString(),
      code: codeUnderTest(),
      options,
      startupMs,
      durationMs,
      requests: {
        ...ledger.totals(),
        retries: stats.reduce((n, s) => n + s.retries, 0),
        pendingEffects: stats.reduce((n, s) => n + s.pendingEffects, 0),
      },
      operations,
      kills,
      killsByService,
      drain: { ms: drain.ms, boundMs: options.drainSeconds * 1_000, pendingAtEnd: drain.pending },
      invariants,
      passed: invariants.every((i) => i.ok),
      failures: ledger.failures,
      transactions: ledger.transactions,
    };
  } finally {
    process.removeListener("SIGINT", abort);
    process.removeListener("SIGTERM", abort);
    await mongo.close();
    await topology.stop();
  }
}

/** bench/results/chaos-<time>.json; the path written. */
export async function writeSummary(summary: ChaosSummary, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `chaos-${summary.startedAt.replace(/:/g, "-").slice(0, 19)}.json`);
  await writeFile(path, JSON.stringify(summary, null, 2) + "\n");
  return path;
}

export function formatSummary(summary: ChaosSummary): string {
  const r = summary.requests;
  const downs = summary.kills.map((k) => k.downMs);
  const codes: Record<string, number> = {};
  for (const f of summary.failures)
    codes[f.code ?? f.outcome] = (codes[f.code ?? f.outcome] ?? 0) + 1;
  // A failure while no replica is down (or just restarted) is not explained by a kill.
  const unexplained = summary.failures.filter(
    (f) => !summary.kills.some((k) => f.atMs >= k.atMs && f.atMs <= k.atMs + k.downMs + 2_000),
  ).length;
  const lines = [
    `chaos run: ${(summary.durationMs / 1000).toFixed(1)} s of load (start-up ${(summary.startupMs / 1000).toFixed(1)} s), ${summary.options.clients} clients, 2 replicas of each subgraph and gateway`,
    `requests ${r.requests}: ok ${r.ok}, partial ${r.partial}, rejected ${r.rejected}, failed ${r.failed} (${r.retries} retries with the same key; ${r.pendingEffects} answers with pending effects)`,
    `failed or partial by code: ${
      Object.entries(codes)
        .map(([code, n]) => `${code} ×${n}`)
        .join(", ") || "none"
    }; ${unexplained} of them while no replica was down`,
    `kills ${summary.kills.length}: ${Object.entries(summary.killsByService)
      .map(([s, n]) => `${s} ×${n}`)
      .join(
        ", ",
      )}${downs.length ? ` (down ${Math.min(...downs)}–${Math.max(...downs)} ms each)` : ""}`,
    `drain: ${summary.drain.ms === null ? `NOT drained within ${summary.drain.boundMs} ms` : `${summary.drain.ms} ms`}`,
    "invariants:",
    ...summary.invariants.map(
      (i) =>
        `  ${i.ok ? "PASS" : "FAIL"} ${i.name}: ${i.violations} of ${i.checked}${i.note ? ` (${i.note})` : ""}` +
        (i.ok ? "" : `\n       e.g. ${JSON.stringify(i.examples[0])}`),
    ),
    `result: ${summary.passed ? "PASS" : "FAIL"}`,
  ];
  return lines.join("\n");
}
