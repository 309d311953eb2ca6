import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../logger.js";
import { runTransaction } from "../mongo/transactions.js";
import { DEFAULT_EVENT_MAX_ATTEMPTS } from "../settings/subgraph-env.js";
import { newEvent } from "../testing/events.js";
import { appliedAll, eventsReceiver, type Delivery } from "../testing/events-receiver.js";
import { crashAt, relayHarness, testRelay, until } from "../testing/relay-harness.js";
import { useRecordedMongo } from "../testing/recorded-mongo.js";
import { OBSERVE, POLL } from "./command-tags.js";
import { EffectScope, settleEffects } from "./effects.js";
import { EFFECT_BUDGET_HEADER } from "./event-batch.js";
import { injectFault, InjectedCrash } from "./fault-points.js";
import type { HubEvent } from "./hub-event.js";
import { EPOCH, type LaneDocument } from "./lane-lease.js";
import type { OutboxDocument } from "./outbox-document.js";
import { Outbox } from "./outbox.js";
import type { OutboxRelay } from "./relay.js";
import { backoffFor, relaySettings } from "./relay-settings.js";

/**
 * How the relay does what relay.test.ts shows it achieves (mutation testing,
 * docs/mutation-testing.md): its settings and backoff, what a receiver sees of a delivery, its
 * exact statistics and logs, its drain loop, the answers to requests waiting for their effects,
 * its poll and its stop. Real relays, a real HTTP receiver and the real (embedded) database; the
 * database's commands are recorded where the relay's reads and writes are what is asserted.
 */
const { client, commands, freshDb } = useRecordedMongo();
const harness = relayHarness(client);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  commands.length = 0;
});

/**
 * The passwords subgraph's outbox: InitialPasswordChanged has one receiver (cards), so every
 * event is one document on one lane and the counts below are exact.
 */
function source(name: string): Outbox {
  return new Outbox(freshDb(name), "passwords");
}

const changed = (n: number) => newEvent("InitialPasswordChanged", { cardId: `c${n}` });
const cardOf = (event: HubEvent) => String(event.payload["cardId"]);
const cards = (...ns: number[]) => ns.map((n) => `c${n}`);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** A relay poll interval that never comes within a test: only the start-up poll runs. */
const NEVER = 2 ** 31 - 1;

/**
 * Events for cards c<n>, enqueued 1 ms apart from `at`, inserted as another replica would: no
 * commit of this process wakes a relay for them, only its poll.
 */
async function insertPending(outbox: Outbox, ns: number[], at = Date.now()) {
  const docs = ns.map((n, i) => ({
    ...outbox.prepare(changed(n))[0]!,
    enqueuedAt: new Date(at + i),
  }));
  await outbox.events.insertMany(docs);
  return docs;
}

/** Commits events for cards c<n> in one transaction of this process: its commit wakes the relay. */
async function commit(outbox: Outbox, ns: number[], scope: EffectScope | null = null) {
  await runTransaction(outbox.events.db, async (session) => {
    for (const n of ns) await outbox.add(session, changed(n), scope);
  });
}

const lanes = (outbox: Outbox) => outbox.events.db.collection<LaneDocument>("outbox_lanes");

/** The database's commands of `outbox`'s database from index `from` of the record on. */
const commandsOf = (outbox: Outbox, from = 0) =>
  commands.slice(from).filter((c) => c.db === outbox.events.db.databaseName);

/** The relay's head query: a destination's next batch. */
const headQueries = (outbox: Outbox) =>
  commandsOf(outbox).filter(
    (c) =>
      c.name === "find" &&
      c.command["find"] === "outbox" &&
      (c.command["filter"] as { destination?: string } | undefined)?.destination === "cards",
  );

/** The writes that clear a lane's backoff (`LaneLeases.clearBackoff`). */
const backoffClears = (outbox: Outbox) =>
  commandsOf(outbox).filter((c) => {
    if (c.name !== "update" || c.command["update"] !== "outbox_lanes") return false;
    const [statement] = c.command["updates"] as { u: { $set?: Record<string, unknown> } }[];
    return statement?.u.$set?.["attempts"] === 0 && statement.u.$set["lastError"] === null;
  });

/** Reads of the lanes collection: a claim's look at the lane. */
const laneReads = (outbox: Outbox, from = 0) =>
  commandsOf(outbox, from).filter((c) => c.name === "find" && c.command["find"] === "outbox_lanes");

function started(relay: OutboxRelay): OutboxRelay {
  cleanups.push(() => relay.stop());
  return relay;
}

/** Counts the relay's polls: each runs the outbox's sweeps once. */
function countPolls(outbox: Outbox): { count: number } {
  const polls = { count: 0 };
  outbox.onSweep("count-polls", async () => {
    polls.count += 1;
    return 0;
  });
  return polls;
}

/** Waits until `n` more polls have begun (so at least `n - 1` ran whole since the call). */
async function pollsPast(polls: { count: number }, n: number): Promise<void> {
  const target = polls.count + n;
  await until(async () => polls.count >= target);
}

/** An events receiver (eventsReceiver) closed after the test. */
async function receiver(reply?: Parameters<typeof eventsReceiver>[0]) {
  const target = await eventsReceiver(reply);
  cleanups.push(() => target.close());
  return target;
}

/** A promise the test opens when it chooses. */
function gate() {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open: () => open() };
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const WARN = 40;
const ERROR = 50;

/** The kit's logger writing to a list: what an operator would read, line by line. */
function recordingLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger("relay-behaviour", "debug", {
    write: (line: string) => void lines.push(JSON.parse(line) as LogLine),
  });
  return {
    logger,
    lines,
    withMsg: (msg: string) => lines.filter((line) => line.msg === msg),
  };
}

const DELIVERY_FAILED = "event delivery failed; will retry";
const DEAD_LETTERED = "event dead-lettered: its receiver failed to apply it; the lane moves on";
const LAG = "outbox lag: events are waiting for delivery";
const STEP_FAILED = "outbox relay poll step failed";

/** The fields of a log line the relay chose (pino adds time, pid, hostname, name). */
const fieldsOf = (line: LogLine, names: string[]) =>
  Object.fromEntries(names.filter((name) => name in line).map((name) => [name, line[name]]));

describe("the relay's settings", () => {
  it("fills in its defaults: a 500 ms poll, an 8 s lease, a 30 s backoff cap, batches of 100, half a lease per delivery, a 1.5 s budget, the configured attempts", () => {
    expect(relaySettings({})).toEqual({
      pollMs: 500,
      leaseMs: 8_000,
      maxBackoffMs: 30_000,
      batchSize: 100,
      deliveryTimeoutMs: 4_000,
      downstreamBudgetMs: 1_500,
      maxAttempts: DEFAULT_EVENT_MAX_ATTEMPTS,
    });
    const given = {
      pollMs: 20,
      leaseMs: 400,
      maxBackoffMs: 50,
      batchSize: 3,
      deliveryTimeoutMs: 100,
      downstreamBudgetMs: 250,
      maxAttempts: 2,
    };
    expect(relaySettings(given)).toEqual(given);
    // A delivery must end while the lease is held: half a lease unless given, never more than
    // three quarters of one.
    expect(relaySettings({ leaseMs: 400 }).deliveryTimeoutMs).toBe(200);
    expect(relaySettings({ leaseMs: 400, deliveryTimeoutMs: 10_000 }).deliveryTimeoutMs).toBe(300);
  });

  it("backs off 400 ms after a first failure, doubling up to the tenth and to its cap, give or take a fifth", () => {
    const middle = (attempts: number, cap = 1e9) => backoffFor(attempts, cap, 0.5);
    for (const [attempts, ms] of [
      [0, 200],
      [1, 400],
      [2, 800],
      [3, 1_600],
      [10, 204_800],
      // No doubling after the tenth failure, whatever the cap.
      [11, 204_800],
      [50, 204_800],
    ] as const)
      expect(middle(attempts), `attempts ${attempts}`).toBeCloseTo(ms, 6);
    expect(middle(3, 3_000)).toBeCloseTo(1_600, 6);
    expect(middle(5, 3_000)).toBeCloseTo(3_000, 6);
    // The jitter spreads replicas retrying one receiver: from 0.8 to 1.2 times the backoff.
    expect(backoffFor(1, 1e9, 0)).toBeCloseTo(320, 6);
    expect(backoffFor(1, 1e9, 0.75)).toBeCloseTo(440, 6);
    expect(backoffFor(5, 3_000, 0)).toBeCloseTo(2_400, 6);
    for (let i = 0; i < 200; i++) {
      const ms = backoffFor(2, 1e9);
      expect(ms).toBeGreaterThanOrEqual(640);
      expect(ms).toBeLessThan(960);
    }
  });
});

describe("a delivery as its receiver sees it", () => {
  it("posts the batch as JSON with a fresh bearer token from serviceToken and the effect budget (1.5 s unless given)", async () => {
    const outbox = source("headers");
    const target = await receiver();
    let tokens = 0;
    started(
      testRelay(outbox, () => target.url, {
        pollMs: NEVER,
        serviceToken: async () => `token-${++tokens}`,
      }),
    );
    await commit(outbox, [1]);
    await until(async () => target.deliveries.length === 1);
    await commit(outbox, [2]);
    await until(async () => target.deliveries.length === 2);
    const seen = (d: Delivery) => ({
      method: d.method,
      type: d.headers["content-type"],
      authorization: d.headers.authorization,
      budget: d.headers[EFFECT_BUDGET_HEADER],
    });
    expect(target.deliveries.map(seen)).toEqual([
      { method: "POST", type: "application/json", authorization: "Bearer token-1", budget: "1500" },
      { method: "POST", type: "application/json", authorization: "Bearer token-2", budget: "1500" },
    ]);
    expect(target.batches()).toEqual([cards(1), cards(2)]);

    const other = source("headers_budget");
    started(testRelay(other, () => target.url, { pollMs: NEVER, downstreamBudgetMs: 250 }));
    await commit(other, [3]);
    await until(async () => target.deliveries.length === 3);
    expect(target.deliveries[2]!.headers[EFFECT_BUDGET_HEADER]).toBe("250");
  });

  it("an error status fails the delivery even when its body reads as an answer: the events stay and are sent again", async () => {
    const outbox = source("error_status");
    const log = recordingLogger();
    const target = await receiver((events, index) =>
      index === 0
        ? { status: 500, body: { applied: events.length, pending: {} } }
        : appliedAll(events),
    );
    const relay = started(
      testRelay(outbox, () => target.url, { pollMs: NEVER, maxBackoffMs: 50, logger: log.logger }),
    );
    await commit(outbox, [1]);
    await until(async () => target.deliveries.length === 2);
    await until(async () => (await relay.stats()).pending === 0);
    expect(target.batches()).toEqual([cards(1), cards(1)]);
    expect(log.withMsg(DELIVERY_FAILED).map((line) => line["error"])).toEqual(["HTTP 500"]);
    expect(await relay.stats()).toMatchObject({ delivered: 1, failedAttempts: 1 });
  });
});

describe("the relay's statistics and logs", () => {
  it("after two transport failures, an event failure and its dead letter: exact stats, one log line each, the lane cleared", async () => {
    const outbox = source("stats");
    const log = recordingLogger();
    // Down twice; then it refuses c1 and applies everything else.
    const target = await receiver((events, index) => {
      if (index < 2) return { status: 503, body: {} };
      const refused = events.findIndex((event) => cardOf(event) === "c1");
      if (refused < 0) return appliedAll(events);
      return {
        body: {
          applied: refused,
          pending: {},
          failed: { eventId: events[refused]!.id, error: "refused" },
        },
      };
    });
    const docs = await insertPending(outbox, [0, 1, 2]);
    // What the subgraph's metrics are told, in order (kit server/subgraph-metrics.ts).
    const told: string[] = [];
    const relay = started(
      testRelay(outbox, () => target.url, {
        pollMs: 20,
        maxBackoffMs: 50,
        maxAttempts: 2,
        logger: log.logger,
        metrics: {
          delivered: (lane, events) => told.push(`delivered ${lane} ${events}`),
          failed: (lane) => told.push(`failed ${lane}`),
          deadLettered: (lane) => told.push(`dead-lettered ${lane}`),
        },
      }),
    );
    await until(async () => (await relay.stats()).pending === 0);
    await relay.stop();

    expect(target.batches()).toEqual([
      cards(0, 1, 2),
      cards(0, 1, 2),
      cards(0, 1, 2),
      cards(1, 2),
      cards(2),
    ]);
    expect(await relay.stats()).toEqual({
      pending: 0,
      oldestPendingMs: 0,
      delivered: 2,
      failedAttempts: 3,
      deadLetters: 1,
    });
    expect(told).toEqual([
      "failed cards",
      "failed cards",
      "delivered cards 1",
      "failed cards",
      "dead-lettered cards",
      "delivered cards 1",
    ]);
    const failures = log
      .withMsg(DELIVERY_FAILED)
      .map((line) => fieldsOf(line, ["level", "destination", "events", "attempts", "error"]));
    expect(failures).toEqual([
      { level: WARN, destination: "cards", events: 3, attempts: 1, error: "HTTP 503" },
      { level: WARN, destination: "cards", events: 3, attempts: 2, error: "HTTP 503" },
      {
        level: WARN,
        destination: "cards",
        events: 1,
        attempts: 1,
        error: `InitialPasswordChanged ${docs[1]!.eventId}: refused`,
      },
    ]);
    // Each retry waits the capped backoff, jitter included.
    for (const line of log.withMsg(DELIVERY_FAILED)) {
      expect(line["retryInMs"]).toBeGreaterThanOrEqual(40);
      expect(line["retryInMs"]).toBeLessThan(60);
    }
    expect(
      log
        .withMsg(DEAD_LETTERED)
        .map((line) =>
          fieldsOf(line, ["level", "destination", "eventId", "type", "attempts", "error"]),
        ),
    ).toEqual([
      {
        level: ERROR,
        destination: "cards",
        eventId: docs[1]!.eventId,
        type: "InitialPasswordChanged",
        attempts: 2,
        error: "refused",
      },
    ]);
    // Nothing else went wrong, so nothing else was logged as a warning or an error.
    expect(log.lines.filter((line) => line.level >= WARN)).toHaveLength(4);
    expect(await relay.deadLetters.list()).toMatchObject([
      { eventId: docs[1]!.eventId, attempts: 2, lastError: "refused" },
    ]);
    // The delivery after the dead letter cleared the lane's backoff.
    expect(await lanes(outbox).findOne({ _id: "cards" })).toMatchObject({
      owner: null,
      attempts: 0,
      nextAttemptAt: EPOCH,
      lastError: null,
      eventFailed: false,
    });

    // stats() reads with the observe comment: benchmarks and tests count them apart.
    const from = commands.length;
    await relay.stats();
    expect(
      commandsOf(outbox, from).map((c) => [c.name, c.command[c.name], c.command["comment"]]),
    ).toEqual([
      ["find", "outbox", OBSERVE],
      ["aggregate", "outbox", OBSERVE],
      ["aggregate", "dead_letters", OBSERVE],
    ]);
  });

  it("stats() counts every pending event and ages the oldest by when it was enqueued, not stored", async () => {
    const outbox = source("stats_pending");
    const base = Date.now();
    // Stored first, enqueued later; stored second, enqueued earliest (another replica's).
    await outbox.events.insertMany([
      { ...outbox.prepare(changed(1))[0]!, enqueuedAt: new Date(base - 20_000) },
      { ...outbox.prepare(changed(2))[0]!, enqueuedAt: new Date(base - 60_000) },
    ]);
    const relay = started(testRelay(outbox, () => undefined, { pollMs: NEVER }));
    const before = Date.now();
    const stats = await relay.stats();
    const after = Date.now();
    expect(stats).toMatchObject({ pending: 2, delivered: 0, deadLetters: 0 });
    // Aged on the database's clock (enqueuedAt is written in it): its offset from this one may be
    // a few milliseconds.
    expect(stats.oldestPendingMs).toBeGreaterThanOrEqual(before - base + 59_000);
    expect(stats.oldestPendingMs).toBeLessThanOrEqual(after - base + 61_000);
  });

  it("a waiting request hears its receiver's error; the lane and the event record whether the receiver or an event failed", async () => {
    const outbox = source("failure_kinds");
    let refusing = false;
    const target = await receiver((events) =>
      refusing
        ? {
            body: { applied: 0, pending: {}, failed: { eventId: events[0]!.id, error: "refused" } },
          }
        : { status: 503, body: {} },
    );
    const lane = () => lanes(outbox).findOne({ _id: "cards" });
    // Each relay is stopped once its waiting request has heard: no retry changes what is read.
    const down = testRelay(outbox, () => target.url, { pollMs: NEVER });
    const waiting = new EffectScope();
    await commit(outbox, [1], waiting);
    await expect(waiting.deliveries[0]!.delivered).rejects.toThrow(/^HTTP 503$/);
    await down.stop();
    expect(await lane()).toMatchObject({ attempts: 1, lastError: "HTTP 503", eventFailed: false });
    // The event itself has not failed: its attempts count only what its receiver refused.
    const [first] = await outbox.events.find({}).toArray();
    expect(first).toMatchObject({ attempts: 0, lastError: null });

    refusing = true;
    const refuses = testRelay(outbox, () => target.url, { pollMs: NEVER });
    const behind = new EffectScope();
    await commit(outbox, [2], behind);
    const message = `InitialPasswordChanged ${first!.eventId}: refused`;
    await expect(behind.deliveries[0]!.delivered).rejects.toThrow(message);
    await refuses.stop();
    expect(await lane()).toMatchObject({ attempts: 1, lastError: message, eventFailed: true });
    expect(await outbox.events.findOne({ _id: first!._id })).toMatchObject({
      attempts: 1,
      lastError: "refused",
    });
    expect(target.batches()).toEqual([cards(1), cards(1, 2)]);
  });

  it("reports the lag once the oldest event has waited 10 s (pending, age, destination, last error), then at most every 30 s", async () => {
    const outbox = source("lag");
    const log = recordingLogger();
    const polls = countPolls(outbox);
    // No receiver is known: nothing is delivered.
    started(
      testRelay(outbox, () => undefined, { pollMs: 20, maxBackoffMs: 50, logger: log.logger }),
    );
    const [fresh] = await insertPending(outbox, [1]);
    await pollsPast(polls, 5);
    expect(log.withMsg(LAG)).toEqual([]);
    expect(log.withMsg(DELIVERY_FAILED)[0]?.["error"]).toBe("no address known for cards");

    // Aged: the oldest (stored last, for another destination) is reported. Stored before the
    // other is aged, so whichever poll reports first sees it.
    const base = Date.now();
    await outbox.events.insertOne({
      ...outbox.prepare(changed(2))[0]!,
      _id: "old:feed",
      destination: "feed",
      enqueuedAt: new Date(base - 60_000),
      lastError: "HTTP 500",
    });
    await outbox.events.updateOne(
      { _id: fresh!._id },
      { $set: { enqueuedAt: new Date(base - 20_000) } },
    );
    await until(async () => log.withMsg(LAG).length === 1);
    const [first] = log.withMsg(LAG);
    expect(fieldsOf(first!, ["level", "pending", "destination", "lastError"])).toEqual({
      level: WARN,
      pending: 2,
      destination: "feed",
      lastError: "HTTP 500",
    });
    // Measured on the database's clock: its offset from this one may be a few milliseconds.
    expect(first!["oldestPendingMs"]).toBeGreaterThanOrEqual(59_000);
    expect(first!["oldestPendingMs"]).toBeLessThanOrEqual(Date.now() - base + 61_000);
    await pollsPast(polls, 5);
    expect(log.withMsg(LAG)).toHaveLength(1);

    // 31 s later on the clock that spaces the reports (the test moves it): reported again. The
    // age is the database clock's (enqueuedAt is written in it), which the test leaves alone.
    const now = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => now() + 31_000);
    await until(async () => log.withMsg(LAG).length === 2);
    expect(log.withMsg(LAG)[1]).toMatchObject({ pending: 2, destination: "feed" });

    // Its reads are the observer's; its look for work is the poll's.
    const looks = commandsOf(outbox).filter(
      (c) =>
        c.command["find"] === "outbox" ||
        c.command["aggregate"] === "outbox" ||
        c.command["distinct"] === "outbox",
    );
    const tagOf = (c: (typeof commands)[number]) => {
      const filter = (c.command["filter"] ?? {}) as Record<string, unknown>;
      if (c.name === "distinct") return "distinct";
      if (c.name === "aggregate") return "count";
      return Object.keys(filter).length === 0 ? "oldest" : "batch";
    };
    const comments = new Map<string, Set<unknown>>();
    for (const c of looks)
      comments.set(tagOf(c), (comments.get(tagOf(c)) ?? new Set()).add(c.command["comment"]));
    expect(comments.get("distinct")).toEqual(new Set([POLL]));
    expect(comments.get("oldest")).toEqual(new Set([OBSERVE]));
    expect(comments.get("count")).toEqual(new Set([OBSERVE]));
  });
});

describe("the relay's poll", () => {
  it("each failing step is logged by name and the steps after it still run; the clock is measured on the first poll only", async () => {
    const outbox = source("poll_steps");
    const log = recordingLogger();
    const polls = countPolls(outbox);
    const target = await receiver();
    await insertPending(outbox, [1], Date.now() - 60_000);
    const calibrate = vi
      .spyOn(outbox.clock, "calibrate")
      .mockRejectedValueOnce(new Error("no clock"));
    vi.spyOn(outbox, "releaseStranded").mockRejectedValueOnce(new Error("no stranded"));
    vi.spyOn(outbox, "runSweeps").mockRejectedValueOnce(new Error("no sweeps"));
    vi.spyOn(outbox.events, "distinct").mockRejectedValueOnce(new Error("no work"));
    vi.spyOn(outbox.events, "countDocuments").mockRejectedValueOnce(new Error("no count"));
    started(testRelay(outbox, () => target.url, { pollMs: 20, logger: log.logger }));
    // The first poll's wake failed: the next poll delivers.
    await until(async () => target.deliveries.length === 1);
    expect(
      log
        .withMsg(STEP_FAILED)
        .map((line) => [line.level, line["step"], (line["err"] as { message: string }).message]),
    ).toEqual([
      [WARN, "clock", "no clock"],
      [WARN, "wake", "no work"],
      [WARN, "stranded", "no stranded"],
      [WARN, "sweeps", "no sweeps"],
      [WARN, "lag", "no count"],
    ]);
    await pollsPast(polls, 5);
    // The clock is measured again only after a minute.
    expect(calibrate).toHaveBeenCalledTimes(1);
  });

  it("logs the stranded events it released and the work its sweeps completed, not sweeps that completed nothing", async () => {
    const outbox = harness.source("poll_sweeps", { strandedAfterMs: 100 });
    const { write } = await harness.carrierOf(outbox);
    const log = recordingLogger();
    const polls = countPolls(outbox);
    let sweeps = 0;
    outbox.onSweep("claims", async () => (++sweeps === 1 ? 2 : 0));
    const target = await receiver();
    const remove = crashAt("after-carrying-write");
    await expect(write(1)).rejects.toThrow(InjectedCrash);
    remove();
    started(testRelay(outbox, () => target.url, { pollMs: 20, logger: log.logger }));
    await until(async () => target.deliveries.length === 2);
    await pollsPast(polls, 5);
    expect(
      log.withMsg("released events a writer had left in their documents").map((line) => line.level),
    ).toEqual([WARN]);
    expect(
      log
        .withMsg("completed work a writer had left half-done")
        .map((line) => fieldsOf(line, ["level", "sweep", "completed"])),
    ).toEqual([{ level: WARN, sweep: "claims", completed: 2 }]);
  });

  it("a destination whose address cannot be looked up is logged with it, and tried again at the next poll", async () => {
    const outbox = source("target_throws");
    const log = recordingLogger();
    const target = await receiver();
    let lookups = 0;
    await insertPending(outbox, [1]);
    started(
      testRelay(
        outbox,
        () => {
          if (lookups++ === 0) throw new Error("settings unreadable");
          return target.url;
        },
        { pollMs: 20, logger: log.logger },
      ),
    );
    await until(async () => target.deliveries.length === 1);
    expect(
      log
        .withMsg("outbox relay failed")
        .map((line) => [
          line.level,
          line["destination"],
          (line["err"] as { message: string }).message,
        ]),
    ).toEqual([[WARN, "cards", "settings unreadable"]]);
  });

  it("an idle relay claims no lane between its polls", async () => {
    const outbox = source("idle");
    const polls = countPolls(outbox);
    const target = await receiver();
    await insertPending(outbox, [1, 2]);
    started(testRelay(outbox, () => target.url, { pollMs: 20 }));
    await until(async () => target.deliveries.length === 1);
    // The serving that delivered them has ended by the third poll after.
    await pollsPast(polls, 3);
    const from = commands.length;
    await pollsPast(polls, 5);
    const laneCommands = commandsOf(outbox, from).filter((c) =>
      ["find", "update", "findAndModify"].some((name) => c.command[name] === "outbox_lanes"),
    );
    expect(laneCommands).toEqual([]);
  });
});

describe("the drain loop", () => {
  it("clears a lane's backoff with its first successful delivery, once, and never writes to clear a lane that did not fail", async () => {
    const outbox = source("clear_backoff");
    const target = await receiver((events, index) =>
      index === 0 ? { status: 503, body: {} } : appliedAll(events),
    );
    await insertPending(outbox, range(0, 5));
    const relay = started(
      testRelay(outbox, () => target.url, { pollMs: NEVER, batchSize: 2, maxBackoffMs: 50 }),
    );
    await until(async () => (await relay.stats()).pending === 0);
    await commit(outbox, [5, 6, 7]);
    await until(async () => (await relay.stats()).pending === 0);
    await relay.stop();
    expect(target.batches().slice(0, 4)).toEqual([cards(0, 1), cards(0, 1), cards(2, 3), cards(4)]);
    // Committed together (the order among them is not what this test is about).
    expect(
      target
        .batches()
        .slice(4)
        .map((batch) => batch.length),
    ).toEqual([2, 1]);
    expect(target.batches().slice(4).flat().sort()).toEqual(cards(5, 6, 7));
    expect(await lanes(outbox).findOne({ _id: "cards" })).toMatchObject({
      attempts: 0,
      nextAttemptAt: EPOCH,
      lastError: null,
      eventFailed: false,
    });
    expect(backoffClears(outbox)).toHaveLength(1);
  });

  it("delivers more events than a batch holds in one serving, in order, a batch at a time, then stops looking", async () => {
    const outbox = source("batches");
    const target = await receiver();
    await insertPending(outbox, range(0, 25));
    const relay = started(testRelay(outbox, () => target.url, { pollMs: NEVER, batchSize: 10 }));
    await until(async () => (await relay.stats()).pending === 0);
    await relay.stop();
    expect(target.batches()).toEqual([
      cards(...range(0, 10)),
      cards(...range(10, 20)),
      cards(...range(20, 25)),
    ]);
    // The short last batch was all there was: no look for more.
    expect(headQueries(outbox).map((c) => c.command["limit"])).toEqual([10, 10, 10]);
  });

  it("a lane of exactly two batches: two deliveries, then an empty look, and no delivery of nothing", async () => {
    const outbox = source("batches_exact");
    const target = await receiver();
    await insertPending(outbox, range(0, 20));
    const relay = started(testRelay(outbox, () => target.url, { pollMs: NEVER, batchSize: 10 }));
    await until(async () => (await relay.stats()).pending === 0);
    await relay.stop();
    expect(target.batches()).toEqual([cards(...range(0, 10)), cards(...range(10, 20))]);
    expect(headQueries(outbox)).toHaveLength(3);
    expect((await relay.stats()).failedAttempts).toBe(0);
  });

  it("a receiver that applied only part of a short batch is sent the rest in the same serving", async () => {
    const outbox = source("partly");
    const target = await receiver(() => ({ body: { applied: 1, pending: {} } }));
    await insertPending(outbox, [0, 1, 2]);
    const relay = started(testRelay(outbox, () => target.url, { pollMs: NEVER }));
    await until(async () => (await relay.stats()).pending === 0);
    expect(target.batches()).toEqual([cards(0, 1, 2), cards(1, 2), cards(2)]);
    expect((await relay.stats()).failedAttempts).toBe(0);
  });

  it("delivers by enqueuedAt, then _id, whatever order the events were stored in (no index to lean on)", async () => {
    const outbox = source("order");
    const target = await receiver();
    const base = Date.now();
    const doc = (eventId: string, n: number, at: number): OutboxDocument => ({
      ...outbox.prepare(changed(n))[0]!,
      _id: `${eventId}:cards`,
      eventId,
      enqueuedAt: new Date(base + at),
    });
    // Stored: c3 (enqueued last, smallest _id), then c2 and c1 (enqueued together, c1's _id first).
    await outbox.events.insertMany([doc("a", 3, 1), doc("c", 2, 0), doc("b", 1, 0)]);
    const relay = started(testRelay(outbox, () => target.url, { pollMs: NEVER, batchSize: 10 }));
    await until(async () => (await relay.stats()).pending === 0);
    expect(target.batches()).toEqual([cards(1, 2, 3)]);
  });

  it("stop() during a delivery waits for it to end, and sends no further batch", async () => {
    const outbox = source("stop_waits");
    const held = gate();
    const target = await receiver(async (events, index) => {
      if (index === 0) await held.opened;
      return appliedAll(events);
    });
    await insertPending(outbox, range(0, 5));
    const relay = started(testRelay(outbox, () => target.url, { pollMs: NEVER, batchSize: 2 }));
    await until(async () => target.deliveries.length === 1);
    let stopped = false;
    const stopping = relay.stop().then(() => (stopped = true));
    // Everything stop() does besides waiting for the lane is done within a few turns.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    held.open();
    await stopping;
    expect(target.batches()).toEqual([cards(0, 1)]);
    expect(await outbox.events.countDocuments()).toBe(3);
    expect((await lanes(outbox).findOne({ _id: "cards" }))?.owner).toBeNull();
  });

  it("stop() ends the poll: a relay stopped at once never polls, and a poll under way schedules no other", async () => {
    // Another relay's polls are the clock the test waits by.
    const clockOutbox = source("stop_clock");
    const clock = countPolls(clockOutbox);
    started(testRelay(clockOutbox, () => undefined, { pollMs: 20 }));

    const early = source("stop_early");
    const earlyPolls = countPolls(early);
    await testRelay(early, () => undefined, { pollMs: 20 }).stop();

    const late = source("stop_late");
    let sweeps = 0;
    const held = gate();
    let holding = false;
    late.onSweep("slow", async () => {
      if (++sweeps === 3) {
        holding = true;
        await held.opened;
      }
      return 0;
    });
    const relay = testRelay(late, () => undefined, { pollMs: 20 });
    await until(async () => holding);
    await relay.stop();
    held.open();
    await pollsPast(clock, 10);
    expect(earlyPolls.count).toBe(0);
    expect(sweeps).toBe(3);
  });
});

describe("requests waiting for their effects", () => {
  it("a waiting request is answered with what its receiver still has pending downstream", async () => {
    const outbox = source("downstream");
    const target = await receiver((events) => ({
      body: {
        applied: events.length,
        pending: Object.fromEntries(
          events.map((e) => [
            e.id,
            [{ eventId: `after-${e.id}`, type: "CardIssued", destination: "feed" }],
          ]),
        ),
      },
    }));
    started(testRelay(outbox, () => target.url, { pollMs: NEVER }));
    const scope = new EffectScope();
    await commit(outbox, [1], scope);
    const eventId = scope.deliveries[0]!.effect.eventId;
    expect(await settleEffects(scope.deliveries, 20_000)).toEqual([
      { eventId: `after-${eventId}`, type: "CardIssued", destination: "feed" },
    ]);
  });

  it("a replay following events another replica is delivering (the lane held elsewhere, and backing off) is answered once that replica has delivered them", async () => {
    const outbox = source("replay_busy");
    const held = gate();
    const target = await receiver(async (events, index) => {
      if (index === 0) await held.opened;
      return appliedAll(events);
    });
    const [doc] = await insertPending(outbox, [1]);
    // Another replica's relay holds the lane while its receiver takes its time.
    started(testRelay(outbox, () => target.url, { pollMs: NEVER }));
    await until(async () => target.deliveries.length === 1);
    // The lane also waits out an earlier failure's backoff: a waiting request cuts through it.
    await lanes(outbox).updateOne(
      { _id: "cards" },
      {
        $set: {
          attempts: 1,
          nextAttemptAt: new Date(Date.now() + 60_000),
          lastError: "HTTP 503",
        },
      },
    );
    // This replica's relay (it now hears the outbox's commits and follows).
    started(testRelay(outbox, () => target.url, { pollMs: NEVER }));
    const from = commands.length;
    const scope = new EffectScope();
    await outbox.follow([doc!._id], scope);
    expect(scope.deliveries).toHaveLength(1);
    let answered = false;
    const settled = settleEffects(scope.deliveries, 20_000).then((pending) => {
      answered = true;
      return pending;
    });
    // Several looks at the busy lane: the event is still there, so no answer yet.
    await until(async () => laneReads(outbox, from).length >= 4);
    expect(answered).toBe(false);
    held.open();
    expect(await settled).toEqual([]);
    // Delivered once, by the other replica.
    expect(target.batches()).toEqual([cards(1)]);
  });

  it("a wait registered during a delivery for an event gone by the lane's next round (a former owner's late delete) is answered", async () => {
    const outbox = source("replay_done");
    const target = await receiver();
    const docs = await insertPending(outbox, [0, 1]);
    const scope = new EffectScope();
    let hooked = false;
    cleanups.push(
      injectFault("before-delivery", async ({ destination }) => {
        if (destination !== "cards" || hooked) return;
        hooked = true;
        // A replay waits for c1 while c0 is on its way...
        await outbox.follow([docs[1]!._id], scope);
        // ...and a paused former owner of the lane, finishing its own delivery of c1, deletes it.
        await outbox.events.deleteOne({ _id: docs[1]!._id });
      }),
    );
    started(testRelay(outbox, () => target.url, { pollMs: NEVER, batchSize: 1 }));
    await until(async () => scope.deliveries.length === 1);
    expect(await settleEffects(scope.deliveries, 10_000)).toEqual([]);
    expect(target.batches()).toEqual([cards(0)]);
  });

  it("a lane another replica left backing off is not delivered by polls or plain commits, but at once for a request that waits", async () => {
    const outbox = source("inherited_backoff");
    const polls = countPolls(outbox);
    const target = await receiver();
    await lanes(outbox).insertOne({
      _id: "cards",
      owner: null,
      epoch: 3,
      beat: 0,
      attempts: 4,
      nextAttemptAt: new Date(Date.now() + 60_000),
      lastError: "HTTP 503",
      eventFailed: false,
    });
    await insertPending(outbox, [0]);
    const relay = started(testRelay(outbox, () => target.url, { pollMs: 20 }));
    await pollsPast(polls, 5);
    await commit(outbox, [1]);
    await pollsPast(polls, 5);
    expect(target.deliveries).toEqual([]);
    const scope = new EffectScope();
    await commit(outbox, [2], scope);
    expect(await settleEffects(scope.deliveries, 20_000)).toEqual([]);
    expect(target.batches()).toEqual([cards(0, 1, 2)]);
    expect((await relay.stats()).pending).toBe(0);
  });

  it("a transport failure backs off (by default at most 30 s) through polls and plain commits; a request that waits is delivered at once", async () => {
    const outbox = source("transport_backoff");
    const log = recordingLogger();
    const polls = countPolls(outbox);
    const target = await receiver((events, index) =>
      index === 0 ? { status: 503, body: {} } : appliedAll(events),
    );
    // Ten failures in a row already: the next backs off for 204.8 s, capped at 30 s.
    await lanes(outbox).insertOne({
      _id: "cards",
      owner: null,
      epoch: 0,
      beat: 0,
      attempts: 10,
      nextAttemptAt: EPOCH,
      lastError: "HTTP 503",
      eventFailed: false,
    });
    await insertPending(outbox, [0]);
    const relay = started(testRelay(outbox, () => target.url, { pollMs: 20, logger: log.logger }));
    await until(async () => log.withMsg(DELIVERY_FAILED).length === 1);
    const [failure] = log.withMsg(DELIVERY_FAILED);
    expect(failure).toMatchObject({ attempts: 11, error: "HTTP 503" });
    expect(failure!["retryInMs"]).toBeGreaterThanOrEqual(24_000);
    expect(failure!["retryInMs"]).toBeLessThan(36_000);
    await pollsPast(polls, 5);
    await commit(outbox, [1]);
    await pollsPast(polls, 5);
    expect(target.deliveries).toHaveLength(1);
    const scope = new EffectScope();
    await commit(outbox, [2], scope);
    expect(await settleEffects(scope.deliveries, 20_000)).toEqual([]);
    expect(target.batches()).toEqual([cards(0), cards(0, 1, 2)]);
    // The waiter is answered before the lane is cleared: stopping waits for the lane's serving.
    await relay.stop();
    expect(await lanes(outbox).findOne({ _id: "cards" })).toMatchObject({
      attempts: 0,
      nextAttemptAt: EPOCH,
    });
  });

  it("a request waiting behind an event its receiver failed to apply hears at once why its effect is pending; the lane keeps waiting", async () => {
    const outbox = source("event_backoff");
    const target = await receiver();
    await lanes(outbox).insertOne({
      _id: "cards",
      owner: null,
      epoch: 1,
      beat: 0,
      attempts: 2,
      nextAttemptAt: new Date(Date.now() + 60_000),
      lastError: "InitialPasswordChanged e0: refused",
      eventFailed: true,
    });
    await insertPending(outbox, [0]);
    started(testRelay(outbox, () => target.url, { pollMs: NEVER }));
    const scope = new EffectScope();
    await commit(outbox, [1], scope);
    await expect(scope.deliveries[0]!.delivered).rejects.toThrow(
      "an earlier event for this receiver is waiting to be retried",
    );
    expect(target.deliveries).toEqual([]);
  });
});

describe("a lane another replica holds", () => {
  it("a plain commit for it looks at the lane once and leaves it to its holder (no wait, so no loop)", async () => {
    const outbox = source("busy_plain");
    const held = gate();
    const target = await receiver(async (events, index) => {
      if (index === 0) await held.opened;
      return appliedAll(events);
    });
    await insertPending(outbox, [0]);
    // Another replica's relay holds the lane while its receiver takes its time.
    started(testRelay(outbox, () => target.url, { pollMs: NEVER }));
    await until(async () => target.deliveries.length === 1);
    // Another relay's polls are the clock the test waits by.
    const clockOutbox = source("busy_plain_clock");
    const clock = countPolls(clockOutbox);
    started(testRelay(clockOutbox, () => undefined, { pollMs: 20 }));
    // This replica's relay: its start-up poll finds the lane busy.
    started(testRelay(outbox, () => target.url, { pollMs: NEVER }));
    await pollsPast(clock, 3);
    const from = commands.length;
    await commit(outbox, [1]);
    await pollsPast(clock, 5);
    expect(laneReads(outbox, from)).toHaveLength(1);
    held.open();
  });

  it("a relay that finds its lane taken over stops serving it at once: one failed confirmation, its release, nothing sent", async () => {
    const outbox = source("lost_lane");
    const mine = await receiver();
    // The new owner's receiver is down: the events stay pending all along.
    const down = await receiver(() => ({ status: 503, body: {} }));
    await insertPending(outbox, [0, 1]);
    const resume = gate();
    let paused = false;
    cleanups.push(
      injectFault("before-delivery", async ({ epoch }) => {
        if (epoch !== 1 || paused) return;
        paused = true;
        await resume.opened;
      }),
    );
    const polls = countPolls(outbox);
    // This relay claims the lane (epoch 1) and stops before its delivery for longer than a lease.
    started(testRelay(outbox, () => mine.url, { pollMs: NEVER, leaseMs: 300 }));
    await until(async () => paused);
    // Another replica takes the silent lane over (epoch 2) and tries its receiver.
    started(testRelay(outbox, () => down.url, { pollMs: 20, leaseMs: 300, maxBackoffMs: 60_000 }));
    await until(async () => down.deliveries.length === 1);
    const from = commands.length;
    resume.open();
    await pollsPast(polls, 5);
    // The first relay's writes to the lane name its epoch: after resuming, only the confirmation
    // that failed and its release.
    const mineWrites = commandsOf(outbox, from).filter(
      (c) =>
        c.name === "update" &&
        c.command["update"] === "outbox_lanes" &&
        (c.command["updates"] as { q: { epoch?: number } }[])[0]?.q.epoch === 1,
    );
    expect(mineWrites).toHaveLength(2);
    expect(mine.deliveries).toEqual([]);
  });
});
