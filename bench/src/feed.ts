import "reflect-metadata";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { siblingUrl } from "@hub/kit";
import { splitOperations } from "@hub/gateway";
import { SCHEMA_DIR } from "@hub/schema";
import { createClient } from "graphql-sse";
import { waitForOk } from "@hub/harness/processes";
import { percentile } from "./outboxes.js";
import { unusedPort } from "@hub/harness";
import { takeHeapSnapshot } from "./heap-snapshot.js";
import { heapByKind, heapGrowth, type HeapKind } from "./heap-summary.js";
import { summarise } from "./cpu-profile-summary.js";
import { Inspector } from "./inspector.js";
import { cpuMs } from "./proc.js";
import { root, startBenchStack, type BenchStack } from "./stack.js";

/**
 * `npm run bench:feed`: the status-change feed under the issue's load (issue 25, "Performance").
 * SUBSCRIBERS idle SSE subscribers (graphql-sse's client, the contract's CardEvents) on one
 * gateway, each following one person; ACTIVE of those persons' cards change at RATE mutations a
 * second (report a loss, withdraw it) for SECONDS. Measured:
 *  - latency to the subscriber of each change: from the mutation's request (the commit is inside
 *    it: an upper bound of commit → subscriber), from its answer, and from the feed's log entry
 *    (the cursor's recording time: the feed's and the gateway's share);
 *  - memory per idle subscription: the gateway's (and the feed's) RSS once the subscribers are
 *    connected minus before, ÷ SUBSCRIBERS.
 * Writes bench/results/<date>-feed.json.
 */
const SUBSCRIBERS = Number(process.env["BENCH_FEED_SUBSCRIBERS"] ?? 1_000);
const RATE = Number(process.env["BENCH_FEED_RATE"] ?? 50);
const SECONDS = Number(process.env["BENCH_FEED_SECONDS"] ?? 30);
const ACTIVE = Number(process.env["BENCH_FEED_ACTIVE"] ?? 50);
const GATEWAY_PORT = 4640;
/**
 * BENCH_FEED_SNAPSHOTS=on: heap snapshots of the gateway before and after the subscribers connect,
 * and what grew, by constructor, per subscription. Writing a snapshot moves RSS, so the RSS
 * figures of such a run are not comparable with others'.
 */
const SNAPSHOTS = process.env["BENCH_FEED_SNAPSHOTS"] === "on";
/**
 * BENCH_FEED_PROFILE=on: every Node process of the hub is CPU-profiled during the load (through
 * its inspector, so start-up and the connection burst are left out); raw profiles and summaries
 * in bench/results/profiles/feed-cpu/.
 */
const PROFILE = process.env["BENCH_FEED_PROFILE"] === "on";
const SUBGRAPHS = ["persons", "cards", "passwords", "bank-accounts", "feed"] as const;

let stack = undefined as unknown as BenchStack;

/** Resident memory of a process now, in kB (/proc/<pid>/status VmRSS). */
function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** The median of `count` RSS readings a second apart (a single reading catches a GC's peaks). */
async function settledRssKb(pid: number, count = 5, apartMs = 1_000): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < count; i++) {
    readings.push(rssKb(pid));
    await new Promise((resolve) => setTimeout(resolve, apartMs));
  }
  return percentile(
    readings.sort((a, b) => a - b),
    50,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 10) / 10;

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

/** The recording time inside a feed cursor (base64url JSON `{v, s, t}`); the bench may look. */
function recordedAt(cursor: string): number {
  return (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { t: number }).t;
}

interface Received {
  eventId: string;
  cursor: string;
  /** The change's time in the producing subgraph (its command's clock, just before its commit). */
  occurredAt: string;
  card: { id: string } | null;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0]!;
  const inspectorPorts: Record<string, number> = {};
  for (const name of ["gateway", ...SUBGRAPHS]) inspectorPorts[name] = await unusedPort();
  const snapshotDir = join(root, "bench", "results", "profiles", "feed-heap");
  if (SNAPSHOTS) await mkdir(snapshotDir, { recursive: true });
  stack = await startBenchStack({
    prefix: "feed",
    firstPort: 4541,
    personCount: 300,
    subgraphNodeOptions: Object.fromEntries(
      SUBGRAPHS.map((name) => [name, [`--inspect=127.0.0.1:${inspectorPorts[name]!}`]]),
    ),
  });
  const gatewayFlags = [`--inspect=127.0.0.1:${inspectorPorts["gateway"]!}`];
  if (SNAPSHOTS)
    gatewayFlags.push("--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshotDir}`);
  const gatewayProcess = stack.startOurGateway(GATEWAY_PORT, gatewayFlags, {
    // Room for every subscriber, whichever way this gateway version counts streams.
    HUB_MAX_STREAMS: String(SUBSCRIBERS * 2),
    HUB_MAX_IN_FLIGHT: String(SUBSCRIBERS * 2),
  });
  await waitForOk(`http://127.0.0.1:${GATEWAY_PORT}/healthz`, 60_000, gatewayProcess);
  const gateway = `http://127.0.0.1:${GATEWAY_PORT}/graphql`;
  const gatewayPid = gatewayProcess.pid!;
  const feedPid = stack.pids["feed"]!;
  const feedMetrics = siblingUrl(stack.subgraphUrls["feed"]!, "/metrics");
  const feedDocuments = splitOperations(await readFile(join(SCHEMA_DIR, "feed.graphql"), "utf8"));
  const subscription = feedDocuments.find((o) => o.name === "CardEvents")!.document;

  // Cards in use (they take a loss report and its withdrawal), one person each: the active
  // subscribers follow these persons.
  const seen = new Set<string>();
  const active = stack.demo.cards.filter((c) => {
    if (c.status !== "NORMAL" || seen.has(c.personId)) return false;
    seen.add(c.personId);
    return true;
  });
  if (active.length <= ACTIVE) throw new Error(`only ${active.length} cards to change`);
  const cards = active.slice(0, ACTIVE);
  const activePersons = new Set(cards.map((c) => c.personId));
  // The idle ones follow persons nothing happens to (made-up ids: the filter only compares).
  const idleIds = Array.from({ length: SUBSCRIBERS - ACTIVE }, (_, i) => `p_idle_${i}`);

  /** When each change's request left and its answer came, by card and sequence. */
  const sentAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  const receivedAt = new Map<string, number>();
  const latencies = {
    fromRequest: [] as number[],
    fromAnswer: [] as number[],
    fromLog: [] as number[],
    fromCommit: [] as number[],
    commitToLog: [] as number[],
  };
  const receivedByCard = new Map<string, number>();
  /** [commit time, commit → subscriber] of each event: the latency over the run, by window. */
  const commits: [number, number][] = [];
  const errors: unknown[] = [];
  let measuring = false;
  // A connection refused or reset while a thousand open on a loaded machine is tried again (and
  // counted): the figure wanted is the gateway's cost per subscription, not the burst's losses.
  let retries = 0;
  const client = createClient({
    url: gateway,
    headers: { authorization: `Bearer ${stack.token}` },
    retryAttempts: 5,
    retry: async (attempt) => {
      retries += 1;
      await sleep(500 * 2 ** attempt);
    },
  });
  const subscribe = (personId: string) =>
    client.subscribe<{ cardEvents: Received }>(
      { query: subscription, variables: { personId } },
      {
        next: (result) => {
          const now = Date.now();
          if (result.errors) errors.push(result.errors);
          const event = result.data?.cardEvents;
          if (!measuring || !event?.card) return;
          const n = (receivedByCard.get(event.card.id) ?? 0) + 1;
          receivedByCard.set(event.card.id, n);
          receivedAt.set(`${event.card.id}#${n}`, now);
          const logged = recordedAt(event.cursor);
          const occurred = Date.parse(event.occurredAt);
          latencies.fromLog.push(now - logged);
          latencies.fromCommit.push(now - occurred);
          commits.push([occurred, now - occurred]);
          latencies.commitToLog.push(logged - occurred);
        },
        error: (error) => errors.push(String(error)),
        complete: () => undefined,
      },
    );

  // Warm-up on a card of its own: the gateway's and the feed's paths used once (a subscription,
  // two changes and their events), so that their first-use costs are not counted below.
  const warmCard = active[ACTIVE]!;
  const warm = subscribe(warmCard.personId);
  await sleep(1_000);
  for (const [operation, input] of [
    ["ReportCardLoss", { cardId: warmCard._id, temporary: true }],
    ["WithdrawLossReport", { cardId: warmCard._id }],
  ] as const)
    await fetch(gateway, {
      method: "POST",
      headers: stack.headers,
      body: JSON.stringify({
        query: stack.document(operation),
        operationName: operation,
        variables: { input },
      }),
    });
  await sleep(2_000);
  warm();
  await sleep(2_000);

  const before = { gateway: await settledRssKb(gatewayPid), feed: await settledRssKb(feedPid) };
  const inspectors = {
    gateway: await Inspector.connect(inspectorPorts["gateway"]!),
    feed: await Inspector.connect(inspectorPorts["feed"]!),
  };
  const heapBefore = {
    gateway: await inspectors.gateway.heapAfterGcKb(),
    feed: await inspectors.feed.heapAfterGcKb(),
  };
  // RSS right after those collections: the young generation emptied and shrunk, so the figure no
  // longer moves with the collector's timing (the gateway's may be 3 × 32 MB between collections).
  const rssAfterGcBefore = {
    gateway: await settledRssKb(gatewayPid, 3, 200),
    feed: await settledRssKb(feedPid, 3, 200),
  };
  let kindsBefore: Map<string, HeapKind> | undefined;
  if (SNAPSHOTS) kindsBefore = heapByKind(await takeHeapSnapshot(gatewayPid, snapshotDir));
  const cpuBefore = { gateway: cpuMs(gatewayPid), feed: cpuMs(feedPid) };
  const unsubscribes: (() => void)[] = [];
  const connectStarted = Date.now();
  for (const personId of [...activePersons, ...idleIds]) {
    unsubscribes.push(subscribe(personId));
    // Opened steadily rather than all in one tick (a channel's clients arrive over time).
    if (unsubscribes.length % 50 === 0) await sleep(50);
  }
  // Connected when the feed serves them all.
  for (;;) {
    const text = await (await fetch(feedMetrics)).text();
    const open = Number(/^hub_feed_subscriptions_open (\d+)/m.exec(text)?.[1] ?? 0);
    if (open >= SUBSCRIBERS) break;
    // Generous: on a machine shared with other jobs a thousand streams have taken over 2 minutes.
    if (Date.now() - connectStarted > 300_000)
      throw new Error(
        `only ${open} of ${SUBSCRIBERS} subscriptions reached the feed; errors: ${JSON.stringify(errors.slice(0, 5))}`,
      );
    await sleep(250);
  }
  const connectMs = Date.now() - connectStarted;
  const cpuAfterConnect = { gateway: cpuMs(gatewayPid), feed: cpuMs(feedPid) };
  await sleep(3_000);
  const connected = { gateway: await settledRssKb(gatewayPid), feed: await settledRssKb(feedPid) };
  const heapConnected = {
    gateway: await inspectors.gateway.heapAfterGcKb(),
    feed: await inspectors.feed.heapAfterGcKb(),
  };
  const rssAfterGcConnected = {
    gateway: await settledRssKb(gatewayPid, 3, 200),
    feed: await settledRssKb(feedPid, 3, 200),
  };
  const gatewayHeapGrowth = kindsBefore
    ? heapGrowth(
        kindsBefore,
        heapByKind(await takeHeapSnapshot(gatewayPid, snapshotDir)),
        SUBSCRIBERS,
      )
    : undefined;
  measuring = true;

  // The load: RATE changes a second, spread over the active cards. Paced globally; each card's
  // next change waits for its previous answer (a withdrawal sent before its loss report commits
  // would be INVALID_TRANSITION), so a slower hub shows as a lower rate, not as failures.
  const total = RATE * SECONDS;
  const sentByCard = new Map<string, number>();
  const previous = new Map<string, Promise<void>>();
  const mutationMs: number[] = [];
  let failed = 0;
  const failures = new Map<string, number>();
  const fail = (code: string) => {
    failed += 1;
    failures.set(code, (failures.get(code) ?? 0) + 1);
  };
  const change = async (cardId: string, n: number): Promise<void> => {
    const report = n % 2 === 1;
    const operation = report ? "ReportCardLoss" : "WithdrawLossReport";
    const input = report ? { cardId, temporary: true } : { cardId };
    const key = `${cardId}#${n}`;
    const started = Date.now();
    sentAt.set(key, started);
    try {
      const response = await fetch(gateway, {
        method: "POST",
        headers: stack.headers,
        body: JSON.stringify({
          query: stack.document(operation),
          operationName: operation,
          variables: { input },
        }),
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      answeredAt.set(key, Date.now());
      mutationMs.push(Date.now() - started);
      if (body.errors) fail(body.errors[0]?.extensions?.code ?? "unknown");
    } catch {
      fail("no answer");
    }
  };
  // Every process of the hub, the embedded database included: what the load costs each.
  const pids: Record<string, number> = { gateway: gatewayPid, ...stack.pids };
  const profiled: Record<string, Inspector> = {};
  if (PROFILE)
    for (const name of ["gateway", ...SUBGRAPHS]) {
      profiled[name] =
        name === "gateway" || name === "feed"
          ? inspectors[name]
          : await Inspector.connect(inspectorPorts[name]!);
      await profiled[name].startProfile();
    }
  const loadStarted = Date.now();
  const cpuLoadStart = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuMs(pid)]));
  for (let i = 0; i < total; i++) {
    const due = loadStarted + (i * 1000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    const cardId = cards[i % cards.length]!._id;
    const n = (sentByCard.get(cardId) ?? 0) + 1;
    sentByCard.set(cardId, n);
    previous.set(
      cardId,
      (previous.get(cardId) ?? Promise.resolve()).then(() => change(cardId, n)),
    );
  }
  await Promise.all(previous.values());
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  const loadAfterLoad = os.loadavg()[0]!;
  const cpuLoadEnd = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuMs(pid)]));
  const profiles: Record<string, unknown> = {};
  if (PROFILE) {
    const dir = join(root, "bench", "results", "profiles", "feed-cpu");
    await mkdir(dir, { recursive: true });
    for (const [name, inspector] of Object.entries(profiled)) {
      const profile = await inspector.stopProfile();
      await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
      const summary = summarise(profile, 0, 25);
      profiles[name] = { totalMs: summary.totalMs, byPackage: summary.byPackage.slice(0, 12) };
      await writeFile(join(dir, `${name}.json`), JSON.stringify(summary, null, 2) + "\n");
      if (name !== "gateway" && name !== "feed") inspector.close();
    }
  }
  for (const inspector of Object.values(inspectors)) inspector.close();
  // Stragglers: every change's event arrives (or the wait gives up).
  const expected = total - failed;
  const drainStarted = Date.now();
  while (latencies.fromLog.length < expected && Date.now() - drainStarted < 30_000)
    await sleep(100);
  const metricsAfter = await (await fetch(feedMetrics)).text();
  // Matched once everything is in: an event often arrives before its mutation's answer (which
  // waits for the change to reach the other subgraphs), so "from the answer" may be negative.
  for (const [key, received] of receivedAt) {
    const sent = sentAt.get(key);
    const answered = answeredAt.get(key);
    if (sent !== undefined) latencies.fromRequest.push(received - sent);
    if (answered !== undefined) latencies.fromAnswer.push(received - answered);
  }

  for (const unsubscribe of unsubscribes) unsubscribe();
  client.dispose();

  const perSubscriptionKb = (name: "gateway" | "feed") =>
    round((connected[name] - before[name]) / SUBSCRIBERS);
  const heapPerSubscriptionKb = (name: "gateway" | "feed") =>
    round((heapConnected[name] - heapBefore[name]) / SUBSCRIBERS);
  const rssAfterGcPerSubscriptionKb = (name: "gateway" | "feed") =>
    round((rssAfterGcConnected[name] - rssAfterGcBefore[name]) / SUBSCRIBERS);
  const fromRequest = summary(latencies.fromRequest);
  const output = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      node: process.version,
      note: "shared: other sessions ran tests on this machine during the run",
      // 1-minute load average on the 2 cores when the stack started and when the load ended.
      loadAverage: { atStart: round(loadAtStart), afterLoad: round(loadAfterLoad) },
    },
    settings: { subscribers: SUBSCRIBERS, active: ACTIVE, rate: RATE, seconds: SECONDS },
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
      fromAnswer: summary(latencies.fromAnswer),
      fromCommit: summary(latencies.fromCommit),
      commitToLogEntry: summary(latencies.commitToLog),
      fromLogEntry: summary(latencies.fromLog),
      // By 10 s window of the commit: a latency that grows through the run is a queue building
      // up (the hub takes fewer changes a second than asked), a flat one is the pipeline's own.
      fromCommitByWindow: Array.from({ length: Math.ceil(loadSeconds / 10) }, (_, w) => {
        const inWindow = commits
          .filter(([at]) => at >= loadStarted + w * 10_000 && at < loadStarted + (w + 1) * 10_000)
          .map(([, ms]) => ms);
        return { fromS: w * 10, ...summary(inWindow) };
      }),
      mutation: summary(mutationMs),
    },
    events: {
      expected,
      received: latencies.fromLog.length,
      failedMutations: Object.fromEntries(failures),
      errors: errors.length,
      subscriptionRetries: retries,
      firstErrors: errors.slice(0, 3),
    },
    memory: {
      rssKbBefore: before,
      rssKbConnected: connected,
      perSubscriptionKb: { gateway: perSubscriptionKb("gateway"), feed: perSubscriptionKb("feed") },
      // The same after three full collections (through each process's inspector): what is live.
      heapKbBefore: heapBefore,
      heapKbConnected: heapConnected,
      heapPerSubscriptionKb: {
        gateway: heapPerSubscriptionKb("gateway"),
        feed: heapPerSubscriptionKb("feed"),
      },
      rssAfterGcKbBefore: rssAfterGcBefore,
      rssAfterGcKbConnected: rssAfterGcConnected,
      rssAfterGcPerSubscriptionKb: {
        gateway: rssAfterGcPerSubscriptionKb("gateway"),
        feed: rssAfterGcPerSubscriptionKb("feed"),
      },
      ...(gatewayHeapGrowth ? { gatewayHeapGrowthPerSubscription: gatewayHeapGrowth } : {}),
    },
    connectMs,
    load: {
      seconds: round(loadSeconds),
      eventsPerSecond: round((total - failed) / loadSeconds),
      // CPU of each process during the load ÷ changes asked for (a change's mutation, its
      // events' deliveries, the feed's append and fan-out, the gateway's resolution of `card`).
      cpuMsPerEvent: Object.fromEntries(
        Object.keys(pids).map((n) => [
          n,
          round((cpuLoadEnd[n]! - cpuLoadStart[n]!) / Math.max(1, total)),
        ]),
      ),
      idleCpuMsWhileConnecting: {
        gateway: cpuAfterConnect.gateway - cpuBefore.gateway,
        feed: cpuAfterConnect.feed - cpuBefore.feed,
      },
    },
    ...(PROFILE ? { cpuProfiles: profiles } : {}),
    feedMetricsAfterLoad: Object.fromEntries(
      metricsAfter
        .split("\n")
        .filter((line) => line && !line.startsWith("#"))
        .map((line) => line.split(" ") as [string, string])
        .map(([name, value]) => [name, Number(value)]),
    ),
  };
  await mkdir(join(root, "bench", "results"), { recursive: true });
  // BENCH_FEED_NAME names the run (before/after a change): committed results are never overwritten.
  const name = process.env["BENCH_FEED_NAME"];
  const file = join(
    root,
    "bench",
    "results",
    `${output.date.slice(0, 10)}-feed${name ? `-${name}` : `-${output.date.slice(11, 19).replaceAll(":", "")}`}.json`,
  );
  await writeFile(file, JSON.stringify(output, null, 2) + "\n");
  console.log(
    JSON.stringify(
      { goals: output.goals, latencyMs: output.latencyMs, memory: output.memory },
      null,
      2,
    ),
  );
  console.log(`written to ${file}`);
}

try {
  await main();
} finally {
  await (stack as BenchStack | undefined)?.stop();
}
