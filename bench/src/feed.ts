import "reflect-metadata";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { siblingUrl } from "@hub/kit";
import { splitOperations } from "@hub/gateway";
import { SCHEMA_DIR } from "@hub/schema";
import { waitForOk } from "@hub/harness/processes";
import { unusedPort } from "@hub/harness";
import { changeSender, paceChanges, postChange } from "./feed-changes.js";
import { settledRssKb, sleep } from "./feed-figures.js";
import { startProfiles, stopProfiles } from "./feed-profiles.js";
import { feedReport } from "./feed-report.js";
import { feedSubscribers } from "./feed-subscribers.js";
import { takeHeapSnapshot } from "./heap-snapshot.js";
import { heapByKind, heapGrowth, type HeapKind } from "./heap-summary.js";
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

  const subscribers = feedSubscribers(gateway, stack.token, subscription);
  const { subscribe, receivedAt, latencies } = subscribers;
  const sender = changeSender(gateway, stack);

  // Warm-up on a card of its own: the gateway's and the feed's paths used once (a subscription,
  // two changes and their events), so that their first-use costs are not counted below.
  const warmCard = active[ACTIVE]!;
  const warm = subscribe(warmCard.personId);
  await sleep(1_000);
  for (const [operation, input] of [
    ["ReportCardLoss", { cardId: warmCard._id, temporary: true }],
    ["WithdrawLossReport", { cardId: warmCard._id }],
  ] as const)
    await postChange(gateway, stack, operation, input);
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
        `only ${open} of ${SUBSCRIBERS} subscriptions reached the feed; errors: ${JSON.stringify(subscribers.errors.slice(0, 5))}`,
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
  subscribers.measure();

  const total = RATE * SECONDS;
  // Every process of the hub, the embedded database included: what the load costs each.
  const pids: Record<string, number> = { gateway: gatewayPid, ...stack.pids };
  const profiled = PROFILE
    ? await startProfiles(["gateway", ...SUBGRAPHS], inspectors, inspectorPorts)
    : {};
  const loadStarted = Date.now();
  const cpuLoadStart = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuMs(pid)]));
  // The load: RATE changes a second, spread over the active cards (see paceChanges).
  await paceChanges(cards, total, RATE, loadStarted, sender.change);
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  const loadAfterLoad = os.loadavg()[0]!;
  const cpuLoadEnd = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuMs(pid)]));
  const profiles = PROFILE ? await stopProfiles(profiled) : {};
  for (const inspector of Object.values(inspectors)) inspector.close();
  // Stragglers: every change's event arrives (or the wait gives up).
  const expected = total - sender.failed;
  const drainStarted = Date.now();
  while (latencies.fromLog.length < expected && Date.now() - drainStarted < 30_000)
    await sleep(100);
  const metricsAfter = await (await fetch(feedMetrics)).text();
  // Matched once everything is in: an event often arrives before its mutation's answer (which
  // waits for the change to reach the other subgraphs), so "from the answer" may be negative.
  for (const [key, received] of receivedAt) {
    const sent = sender.sentAt.get(key);
    const answered = sender.answeredAt.get(key);
    if (sent !== undefined) latencies.fromRequest.push(received - sent);
    if (answered !== undefined) latencies.fromAnswer.push(received - answered);
  }

  for (const unsubscribe of unsubscribes) unsubscribe();
  subscribers.dispose();

  const output = feedReport({
    settings: { subscribers: SUBSCRIBERS, active: ACTIVE, rate: RATE, seconds: SECONDS },
    profile: PROFILE,
    loadAtStart,
    loadAfterLoad,
    latencies,
    commits: subscribers.commits,
    mutationMs: sender.mutationMs,
    loadStarted,
    loadSeconds,
    total,
    failed: sender.failed,
    expected,
    failures: sender.failures,
    errors: subscribers.errors,
    retries: subscribers.retries,
    before,
    connected,
    heapBefore,
    heapConnected,
    rssAfterGcBefore,
    rssAfterGcConnected,
    gatewayHeapGrowth,
    connectMs,
    pids,
    cpuLoadStart,
    cpuLoadEnd,
    cpuBefore,
    cpuAfterConnect,
    profiles,
    metricsAfter,
  });
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
