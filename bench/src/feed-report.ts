import os from "node:os";
import { summary } from "./feed-figures.js";
import type { FeedLatencies } from "./feed-subscribers.js";
import { round } from "./figures.js";
import type { heapGrowth } from "./heap-summary.js";

/** A reading of the gateway and of the feed (kB or ms). */
type Both = { gateway: number; feed: number };

/** What a feed bench run measured, as feedReport takes it. */
export interface FeedRun {
  settings: { subscribers: number; active: number; rate: number; seconds: number };
  /** Whether the processes were CPU-profiled (BENCH_FEED_PROFILE=on). */
  profile: boolean;
  loadAtStart: number;
  loadAfterLoad: number;
  latencies: FeedLatencies;
  commits: [number, number][];
  mutationMs: number[];
  loadStarted: number;
  loadSeconds: number;
  total: number;
  failed: number;
  expected: number;
  failures: Map<string, number>;
  errors: unknown[];
  retries: number;
  before: Both;
  connected: Both;
  heapBefore: Both;
  heapConnected: Both;
  rssAfterGcBefore: Both;
  rssAfterGcConnected: Both;
  gatewayHeapGrowth: ReturnType<typeof heapGrowth> | undefined;
  connectMs: number;
  pids: Record<string, number>;
  cpuLoadStart: Record<string, number>;
  cpuLoadEnd: Record<string, number>;
  cpuBefore: Both;
  cpuAfterConnect: Both;
  profiles: Record<string, unknown>;
  /** The feed's /metrics text after the load. */
  metricsAfter: string;
}

/**
 * The run's result file (bench/results/<date>-feed-….json): the goals, latencies, events,
 * memory per subscription, the load's rate and CPU, and the feed's metrics after it.
 */
export function feedReport(run: FeedRun) {
  const perSubscriptionKb = (name: "gateway" | "feed") =>
    round((run.connected[name] - run.before[name]) / run.settings.subscribers);
  const heapPerSubscriptionKb = (name: "gateway" | "feed") =>
    round((run.heapConnected[name] - run.heapBefore[name]) / run.settings.subscribers);
  const rssAfterGcPerSubscriptionKb = (name: "gateway" | "feed") =>
    round((run.rssAfterGcConnected[name] - run.rssAfterGcBefore[name]) / run.settings.subscribers);
  const fromRequest = summary(run.latencies.fromRequest);
  return {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      node: process.version,
      note: "shared: other sessions ran tests on this machine during the run",
      // 1-minute load average on the 2 cores when the stack started and when the load ended.
      loadAverage: { atStart: round(run.loadAtStart), afterLoad: round(run.loadAfterLoad) },
    },
    settings: run.settings,
    goals: {
      "commit → subscriber p99 ≤ 250 ms (from the mutation's request)": {
        p99: fromRequest.p99,
        met: fromRequest.p99 <= 250,
      },
      "memory per idle subscription on the gateway ≤ 30 KB (RSS delta ÷ subscribers)": {
        kb: perSubscriptionKb("gateway"),
        met: perSubscriptionKb("gateway") <= 30,
        // The same with both readings taken right after forced collections, and the live heap.
        kbAfterGc: rssAfterGcPerSubscriptionKb("gateway"),
        heapKb: heapPerSubscriptionKb("gateway"),
      },
    },
    latencyMs: {
      fromRequest,
      fromAnswer: summary(run.latencies.fromAnswer),
      fromCommit: summary(run.latencies.fromCommit),
      commitToLogEntry: summary(run.latencies.commitToLog),
      fromLogEntry: summary(run.latencies.fromLog),
      // By 10 s window of the commit: a latency that grows through the run is a queue building
      // up (the hub takes fewer changes a second than asked), a flat one is the pipeline's own.
      fromCommitByWindow: Array.from({ length: Math.ceil(run.loadSeconds / 10) }, (_, w) => {
        const inWindow = run.commits
          .filter(
            ([at]) => at >= run.loadStarted + w * 10_000 && at < run.loadStarted + (w + 1) * 10_000,
          )
          .map(([, ms]) => ms);
        return { fromS: w * 10, ...summary(inWindow) };
      }),
      mutation: summary(run.mutationMs),
    },
    events: {
      expected: run.expected,
      received: run.latencies.fromLog.length,
      failedMutations: Object.fromEntries(run.failures),
      errors: run.errors.length,
      subscriptionRetries: run.retries,
      firstErrors: run.errors.slice(0, 3),
    },
    memory: {
      rssKbBefore: run.before,
      rssKbConnected: run.connected,
      perSubscriptionKb: { gateway: perSubscriptionKb("gateway"), feed: perSubscriptionKb("feed") },
      // The same after three full collections (through each process's inspector): what is live.
      heapKbBefore: run.heapBefore,
      heapKbConnected: run.heapConnected,
      heapPerSubscriptionKb: {
        gateway: heapPerSubscriptionKb("gateway"),
        feed: heapPerSubscriptionKb("feed"),
      },
      rssAfterGcKbBefore: run.rssAfterGcBefore,
      rssAfterGcKbConnected: run.rssAfterGcConnected,
      rssAfterGcPerSubscriptionKb: {
        gateway: rssAfterGcPerSubscriptionKb("gateway"),
        feed: rssAfterGcPerSubscriptionKb("feed"),
      },
      ...(run.gatewayHeapGrowth ? { gatewayHeapGrowthPerSubscription: run.gatewayHeapGrowth } : {}),
    },
    connectMs: run.connectMs,
    load: {
      seconds: round(run.loadSeconds),
      eventsPerSecond: round((run.total - run.failed) / run.loadSeconds),
      // CPU of each process during the load ÷ changes asked for (a change's mutation, its
      // events' deliveries, the feed's append and fan-out, the gateway's resolution of `card`).
      cpuMsPerEvent: Object.fromEntries(
        Object.keys(run.pids).map((n) => [
          n,
          round((run.cpuLoadEnd[n]! - run.cpuLoadStart[n]!) / Math.max(1, run.total)),
        ]),
      ),
      idleCpuMsWhileConnecting: {
        gateway: run.cpuAfterConnect.gateway - run.cpuBefore.gateway,
        feed: run.cpuAfterConnect.feed - run.cpuBefore.feed,
      },
    },
    ...(run.profile ? { cpuProfiles: run.profiles } : {}),
    feedMetricsAfterLoad: Object.fromEntries(
      run.metricsAfter
        .split("\n")
        .filter((line) => line && !line.startsWith("#"))
        .map((line) => line.split(" ") as [string, string])
        .map(([name, value]) => [name, Number(value)]),
    ),
  };
}
