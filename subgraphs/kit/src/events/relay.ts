import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.js";
import { beside } from "../mongo/transactions.js";
import { DEFAULT_EVENT_MAX_ATTEMPTS } from "../settings/subgraph-env.js";
import type { PendingEffect, TrackedDelivery } from "./effects.js";
import type { SubgraphName } from "../settings/subgraph-urls.js";
import { OBSERVERS } from "./catalogue.js";
import { OBSERVE, POLL } from "./command-tags.js";
import { DeadLetters } from "./dead-letters.js";
import { EFFECT_BUDGET_HEADER, readAnswer, type EventBatchAnswer } from "./event-batch.js";
import { faultPoint } from "./fault-points.js";
import { LaneLeases, type LaneDocument, type Lease } from "./lane-lease.js";
import { Outbox, type OutboxDocument } from "./outbox.js";
import { inDeliverySpan, outsideTraces, withTraceHeaders } from "../tracing/events.js";

export interface RelayOptions {
  outbox: Outbox;
  /** Where a destination subgraph receives events (its `/events` URL); undefined while unknown. */
  target: (destination: string) => string | undefined;
  /** A fresh service token for the destination to verify. */
  serviceToken: () => Promise<string>;
  logger: Logger;
  /**
   * How often the relay looks for work it was not woken for: events committed by another replica
   * whose relay died, and retries after a backoff. Commits in this process wake it at once.
   */
  pollMs?: number;
  /** How long a silent owner keeps a destination's lane before another replica may take it. */
  leaseMs?: number;
  /** Cap of the exponential retry backoff. */
  maxBackoffMs?: number;
  deliveryTimeoutMs?: number;
  /** Events sent in one delivery (one HTTP call). */
  batchSize?: number;
  /** What a receiver may spend delivering its own effects before it answers (HUB_EFFECT_WAIT_MS / 2). */
  downstreamBudgetMs?: number;
  /** Failed applications of one event before it is dead-lettered (HUB_EVENT_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Told of each lane's deliveries, failed deliveries and dead letters as they happen (metrics). */
  metrics?: RelayMetrics;
}

/** What the relay tells as it delivers, per lane (the receiving subgraph): the subgraph's metrics. */
export interface RelayMetrics {
  delivered(lane: string, events: number): void;
  /** A delivery failed (the receiver down or refusing, or failing to apply an event): retried after a backoff. */
  failed(lane: string): void;
  deadLettered(lane: string): void;
}

export interface RelayStats {
  pending: number;
  /** Age of the oldest undelivered event: the relay's lag. */
  oldestPendingMs: number;
  delivered: number;
  failedAttempts: number;
  /** Events set aside after `maxAttempts` failed applications (all replicas'). */
  deadLetters: number;
}

export interface OutboxRelay {
  stop(): Promise<void>;
  stats(): Promise<RelayStats>;
  readonly deadLetters: DeadLetters;
}

interface Waiter {
  resolve: (downstream: PendingEffect[]) => void;
  reject: (error: Error) => void;
}

/** This process's view of one lane: is it being served here, and who waits for which event. */
interface LocalLane {
  destination: string;
  serving: Promise<void> | null;
  /** Work arrived while serving: go round once more. */
  again: boolean;
  /** A request waits: deliver now even within a backoff. */
  urgent: boolean;
  /** By outbox document: a first call and its replays may wait for the same event. */
  waiters: Map<string, Waiter[]>;
  /** After a failed delivery: wakes the lane when its backoff ends. */
  retry: NodeJS.Timeout | null;
}

/** How often the relay measures the database clock's offset again (LaneLeases, Outbox). */
const CALIBRATE_EVERY_MS = 60_000;

type Outcome = "done" | "failed" | "busy" | "backing-off";

/** What one delivery of a batch came to. */
type Sent = "accepted" | "partly" | "refused" | "moved-on" | "failed" | "lost-lane";

/** A 400 that is the receiving inbox's own answer (`BAD_USER_INPUT`: not a batch it can read). */
async function refusedByInbox(response: Response): Promise<boolean> {
  const body = (await response.json().catch(() => null)) as {
    errors?: { extensions?: { code?: unknown } }[];
  } | null;
  return body?.errors?.[0]?.extensions?.code === "BAD_USER_INPUT";
}

/**
 * The events of `docs` as JSON, up to the first that cannot be serialised (`unsendable`: why);
 * `batch` holds the documents sent.
 */
function serialise(docs: OutboxDocument[]): {
  batch: OutboxDocument[];
  bodies: string[];
  unsendable: string | null;
} {
  const bodies: string[] = [];
  for (const doc of docs) {
    try {
      bodies.push(JSON.stringify(Outbox.toHubEvent(doc)));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { batch: docs.slice(0, bodies.length), bodies, unsendable: `not an event: ${reason}` };
    }
  }
  return { batch: docs, bodies, unsendable: null };
}

/**
 * The relay's timings and sizes, defaults filled in. Exported for its tests: a wrong default
 * (a poll interval, a delivery timeout) shows only as timing otherwise.
 */
export function relaySettings(
  options: Pick<
    RelayOptions,
    | "pollMs"
    | "leaseMs"
    | "maxBackoffMs"
    | "batchSize"
    | "deliveryTimeoutMs"
    | "downstreamBudgetMs"
    | "maxAttempts"
  >,
) {
  const leaseMs = options.leaseMs ?? 8_000;
  return {
    pollMs: options.pollMs ?? 500,
    leaseMs,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    batchSize: options.batchSize ?? 100,
    // A delivery ends within a lease of the last confirmation (LaneLeases).
    deliveryTimeoutMs: Math.min(options.deliveryTimeoutMs ?? leaseMs / 2, (leaseMs * 3) / 4),
    downstreamBudgetMs: options.downstreamBudgetMs ?? 1_500,
    maxAttempts: options.maxAttempts ?? DEFAULT_EVENT_MAX_ATTEMPTS,
  };
}

/**
 * How long a lane waits after its `attempts`-th failed delivery in a row: 400 ms doubling up to
 * `maxBackoffMs`, give or take a fifth (`random` in [0, 1)). Exported for its tests: the jitter
 * hides the formula from any test of the relay as a whole.
 */
export function backoffFor(attempts: number, maxBackoffMs: number, random = Math.random()): number {
  // Jitter: replicas retrying one receiver do not come back in step.
  return Math.min(maxBackoffMs, 200 * 2 ** Math.min(attempts, 10)) * (0.8 + random * 0.4);
}

/**
 * Delivers the outbox. Woken by every commit of this process (no poll wait when there is work),
 * it sends each destination's pending events in order, up to `batchSize` in one HTTP call, while
 * it holds the destination's lane (LaneLeases), and deletes those the receiver applied. A request
 * that waits for its effects (contract v2) is told when its events arrive, with what is still
 * pending further down the line. A transport failure is retried with backoff for as long as it
 * lasts; an event its receiver fails to apply is retried `maxAttempts` times, then dead-lettered
 * so the lane moves on. Delivery is at least once; receivers converge by version.
 */
export function startOutboxRelay(options: RelayOptions): OutboxRelay {
  const instance = randomUUID();
  const {
    pollMs,
    leaseMs,
    maxBackoffMs,
    batchSize,
    deliveryTimeoutMs,
    downstreamBudgetMs,
    maxAttempts,
  } = relaySettings(options);
  const events = options.outbox.events;
  const leases = new LaneLeases(
    events.db.collection<LaneDocument>("outbox_lanes"),
    instance,
    leaseMs,
    undefined,
    options.outbox.clock,
  );
  const deadLetters = new DeadLetters(events.db, events, options.outbox.clock);
  const local = new Map<string, LocalLane>();
  let running = true;
  let delivered = 0;
  let failedAttempts = 0;

  const laneOf = (destination: string): LocalLane => {
    let lane = local.get(destination);
    if (!lane) {
      lane = {
        destination,
        serving: null,
        again: false,
        urgent: false,
        waiters: new Map(),
        retry: null,
      };
      local.set(destination, lane);
    }
    return lane;
  };

  /** Answers those waiting for `docs` (delivered: with what is pending further on). */
  function answer(lane: LocalLane, docs: OutboxDocument[], pending: EventBatchAnswer["pending"]) {
    for (const doc of docs) {
      for (const waiter of lane.waiters.get(doc._id) ?? [])
        waiter.resolve(pending[doc.eventId] ?? []);
      lane.waiters.delete(doc._id);
    }
  }

  /** One delivery of `batch` while holding `lease`. */
  async function send(lease: Lease, whole: OutboxDocument[]): Promise<Sent> {
    const { destination } = lease;
    const url = options.target(destination);
    // A document that cannot be sent (its stored fields do not make an event) is that event's
    // failure, not the receiver's: it is tried, then dead-lettered, and the lane moves on.
    const { batch, bodies, unsendable } = serialise(whole);
    if (batch.length === 0) return eventFailed(lease, whole[0]!, unsendable!);
    let accepted: OutboxDocument[];
    let failed: EventBatchAnswer["failed"];
    let pending: EventBatchAnswer["pending"];
    try {
      if (!url) throw new Error(`no address known for ${destination}`);
      // Before the lease is confirmed: nothing that may take long lies between it and the send.
      const token = await options.serviceToken();
      await faultPoint("before-delivery", { destination, epoch: lease.epoch });
      if (!(await leases.confirm(lease))) return "lost-lane";
      // The answer must come while the lease is certainly held; a later one is given up (the
      // events stay, and are sent again: receivers absorb the duplicate).
      let timeoutMs = Math.min(deliveryTimeoutMs, leases.remainingMs(lease));
      const response = await fetch(url, {
        method: "POST",
        headers: withTraceHeaders({
          "content-type": "application/json",
          authorization: `Bearer ${token}`,
          [EFFECT_BUDGET_HEADER]: String(downstreamBudgetMs),
        }),
        body: `{"events":[${bodies.join(",")}]}`,
        signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
      });
      // The receiver refuses the batch itself (too large, or not a batch it can read): sent one
      // event at a time, the one it still refuses is that event's failure. Only the receiver's
      // own refusal counts so: a proxy's 400 says nothing about the events (the lane waits).
      if (
        response.status === 413 ||
        (response.status === 400 && (await refusedByInbox(response)))
      ) {
        if (batch.length > 1) return "refused";
        return eventFailed(lease, batch[0]!, `refused by ${destination}: HTTP ${response.status}`);
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      ({ accepted, failed, pending } = readAnswer(batch, await response.json()));
      await faultPoint("after-delivery", { destination, epoch: lease.epoch });
      if (accepted.length > 0) {
        // One retryable single-document delete each (a multi-document delete is not retried by
        // the driver after a failover). Beside the transactions that add events (on the embedded
        // server a commit could undo it).
        await beside(events.db, () =>
          events.bulkWrite(
            accepted.map((doc) => ({ deleteOne: { filter: { _id: doc._id } } })),
            { ordered: false },
          ),
        );
      }
    } catch (error) {
      // The receiver is down, slow, refusing or answering nonsense, or the delete failed: no event
      // is at fault, the lane waits and retries (what was applied comes again as a duplicate).
      const message = error instanceof Error ? error.message : String(error);
      await laneFailed(lease, { count: batch.length, attempts: lease.attempts + 1, message });
      return "failed";
    }
    if (accepted.length > 0) {
      delivered += accepted.length;
      options.metrics?.delivered(destination, accepted.length);
      answer(laneOf(destination), accepted, pending);
    }
    if (failed) return eventFailed(lease, batch[accepted.length]!, failed.error);
    // A receiver that applied fewer than it was sent (and named no failure) is sent the rest.
    return accepted.length === batch.length ? "accepted" : "partly";
  }

  /** The receiver could not apply `doc`: tried again after a backoff, or set aside. */
  async function eventFailed(lease: Lease, doc: OutboxDocument, error: string): Promise<Sent> {
    // Only the lane's owner counts attempts or buries: a stale one (paused since it sent) may
    // hold an answer its successor has already made obsolete.
    if (!(await leases.confirm(lease, true))) return "lost-lane";
    const attempts = doc.attempts + 1;
    // Counted only if nobody has counted or delivered it since it was read (a stale owner paused
    // between the confirmation above and this write finds it changed or gone).
    const counted = await beside(events.db, () =>
      events.updateOne(
        { _id: doc._id, attempts: doc.attempts },
        { $set: { attempts, lastError: error } },
      ),
    );
    if (counted.matchedCount === 0) return "lost-lane";
    if (attempts >= maxAttempts) {
      await deadLetters.bury({ ...doc, attempts }, error);
      options.metrics?.deadLettered(lease.destination);
      options.logger.error(
        { destination: lease.destination, eventId: doc.eventId, type: doc.type, attempts, error },
        "event dead-lettered: its receiver failed to apply it; the lane moves on",
      );
      const lane = laneOf(lease.destination);
      for (const waiter of lane.waiters.get(doc._id) ?? []) waiter.reject(new Error(error));
      lane.waiters.delete(doc._id);
      return "moved-on";
    }
    await laneFailed(lease, {
      count: 1,
      attempts,
      message: `${doc.type} ${doc.eventId}: ${error}`,
      eventFailed: true,
    });
    return "failed";
  }

  async function laneFailed(
    lease: Lease,
    failure: { count: number; attempts: number; message: string; eventFailed?: boolean },
  ) {
    const { count, attempts, message } = failure;
    failedAttempts += 1;
    options.metrics?.failed(lease.destination);
    const backoff = backoffFor(attempts, maxBackoffMs);
    options.logger.warn(
      {
        destination: lease.destination,
        events: count,
        attempts,
        retryInMs: backoff,
        error: message,
      },
      "event delivery failed; will retry",
    );
    await leases.backOff(lease, {
      attempts,
      backoffMs: backoff,
      error: message,
      eventFailed: failure.eventFailed ?? false,
    });
    rejectWaiters(laneOf(lease.destination), message);
    retryAfter(laneOf(lease.destination), backoff);
  }

  /** Those waiting learn now that their effect is pending; the relay keeps the event. */
  function rejectWaiters(lane: LocalLane, message: string): void {
    for (const waiter of [...lane.waiters.values()].flat()) waiter.reject(new Error(message));
    lane.waiters.clear();
  }

  /**
   * Tries a failed lane again when its backoff ends, not at the next poll, which may come much
   * later (the poll is for work other processes left). A little after: the claim compares the
   * backoff's end with its own clock reading.
   */
  function retryAfter(lane: LocalLane, backoffMs: number): void {
    if (lane.retry) clearTimeout(lane.retry);
    lane.retry = setTimeout(() => {
      lane.retry = null;
      wake(lane.destination, false);
    }, backoffMs + 20);
    lane.retry.unref();
  }

  /** Delivers a destination's pending events in order while this relay holds its lane. */
  async function drain(destination: string, urgent: boolean): Promise<Outcome> {
    const lease = await leases.claim(destination, urgent);
    if (typeof lease === "string") return lease;
    try {
      let failedBefore = lease.attempts > 0;
      // Shrinks to one event when the receiver refuses a batch, grows back as batches pass.
      let limit = batchSize;
      for (;;) {
        const asked = limit;
        const batch = await events
          .find({ destination })
          .sort({ enqueuedAt: 1, _id: 1 })
          .limit(asked)
          .toArray();
        if (batch.length === 0) break;
        const sent = await inDeliverySpan(destination, batch, () => send(lease, batch));
        if (sent === "failed") return "failed";
        if (sent === "lost-lane") return "busy";
        if (sent === "refused") {
          limit = 1;
          continue;
        }
        limit = Math.min(batchSize, limit * 2);
        if (failedBefore) {
          await leases.clearBackoff(lease);
          failedBefore = false;
        }
        // A short batch delivered whole was all there was: what commits meanwhile wakes the lane.
        if (!running || (sent === "accepted" && batch.length < asked)) break;
      }
      return "done";
    } finally {
      await leases.release(lease);
    }
  }

  /** Those waiting for events no longer in the outbox (delivered, here or by another replica). */
  async function answerDelivered(lane: LocalLane): Promise<void> {
    const waiting = [...lane.waiters.keys()];
    if (waiting.length === 0) return;
    const left = new Set(
      (await events.find({ _id: { $in: waiting } }).toArray()).map((doc) => doc._id),
    );
    for (const id of waiting) {
      if (left.has(id)) continue;
      for (const waiter of lane.waiters.get(id) ?? []) waiter.resolve([]);
      lane.waiters.delete(id);
    }
  }

  async function serve(lane: LocalLane): Promise<void> {
    while (lane.again && running) {
      lane.again = false;
      const urgent = lane.urgent;
      lane.urgent = false;
      let outcome: Outcome;
      try {
        outcome = await drain(lane.destination, urgent);
      } catch (error) {
        options.logger.warn({ err: error, destination: lane.destination }, "outbox relay failed");
        outcome = "failed";
      }
      // A wait registered for an event that was delivered meanwhile (a replay following its
      // first call's events) is answered once the lane is found empty of it.
      if (outcome === "done" && lane.waiters.size > 0)
        await answerDelivered(lane).catch(() => undefined);
      // Held back by an event its receiver failed to apply: a waiting request learns now that
      // its effect is pending (its wait would not cut the backoff short).
      if (outcome === "backing-off" && urgent && lane.waiters.size > 0)
        rejectWaiters(lane, "an earlier event for this receiver is waiting to be retried");
      if (outcome === "busy" && lane.waiters.size > 0) {
        await answerDelivered(lane).catch(() => undefined);
        if (lane.waiters.size > 0) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          lane.again = true;
          lane.urgent = true;
        }
      }
    }
  }

  /** Makes sure the lane is being served; urgent when a request waits for it. */
  function wake(destination: string, urgent: boolean): void {
    const lane = laneOf(destination);
    lane.again = true;
    lane.urgent ||= urgent;
    if (lane.serving || !running) return;
    lane.serving = outsideTraces(() => serve(lane)).finally(() => {
      lane.serving = null;
      if (lane.again && running) wake(destination, lane.urgent);
    });
  }

  options.outbox.onCommitted((docs, track) => {
    const tracked: TrackedDelivery[] = [];
    if (track) {
      for (const doc of docs) {
        if (OBSERVERS.includes(doc.destination as SubgraphName)) continue;
        const delivered = new Promise<PendingEffect[]>((resolve, reject) =>
          laneOf(doc.destination).waiters.set(doc._id, [
            ...(laneOf(doc.destination).waiters.get(doc._id) ?? []),
            { resolve, reject },
          ]),
        );
        // Nobody may be listening any more once the request has answered.
        delivered.catch(() => undefined);
        tracked.push({
          effect: { eventId: doc.eventId, type: doc.type, destination: doc.destination },
          delivered,
        });
      }
    }
    for (const destination of new Set(docs.map((doc) => doc.destination))) wake(destination, track);
    return tracked;
  });

  let lastLagReport = 0;
  const oldestPending = () =>
    events.find({}, { comment: OBSERVE }).sort({ enqueuedAt: 1 }).limit(1).next();

  /** A stuck queue shows in the logs: pending count and lag, at most every 30 s while it lasts. */
  async function reportLag(): Promise<void> {
    if (Date.now() - lastLagReport < 30_000) return;
    const oldest = await oldestPending();
    const now = options.outbox.clock.nowMs();
    if (!oldest || now - oldest.enqueuedAt.getTime() < 10_000) return;
    lastLagReport = Date.now();
    options.logger.warn(
      {
        pending: await events.countDocuments({}, { comment: OBSERVE }),
        oldestPendingMs: now - oldest.enqueuedAt.getTime(),
        destination: oldest.destination,
        lastError: oldest.lastError,
      },
      "outbox lag: events are waiting for delivery",
    );
  }

  let timer: NodeJS.Timeout | null = null;
  let calibratedAt = -Infinity;
  const stepsUnderWay = new Set<string>();
  // A step that hangs (a sweep waiting on an unreachable database) is left behind after this.
  const stepTimeoutMs = Math.max(2_000, pollMs * 4);
  /**
   * One step of the poll: its failure is logged and does not stop the steps after it, nor does
   * its hanging (the poll moves on; the step is not started again while it is still under way).
   */
  const step = async (name: string, work: () => Promise<void>) => {
    if (stepsUnderWay.has(name)) return;
    stepsUnderWay.add(name);
    const done = work().finally(() => stepsUnderWay.delete(name));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), stepTimeoutMs);
    });
    try {
      if ((await Promise.race([done, late])) === "late")
        options.logger.warn({ step: name, afterMs: stepTimeoutMs }, "outbox relay poll step hangs");
    } catch (error) {
      options.logger.warn({ err: error, step: name }, "outbox relay poll step failed");
    } finally {
      clearTimeout(timer);
    }
  };
  const poll = async () => {
    if (performance.now() - calibratedAt > CALIBRATE_EVERY_MS) {
      calibratedAt = performance.now();
      await step("clock", () => options.outbox.clock.calibrate());
    }
    // Waking first: a step below that hangs (a sweep waiting on the database) does not hold up
    // what other replicas committed.
    await step("wake", async () => {
      for (const destination of await events.distinct("destination", {}, { comment: POLL }))
        wake(String(destination), false);
    });
    // A writer that stopped between its single-document write and the release of its events.
    await step("stranded", async () => {
      if (await options.outbox.releaseStranded(options.outbox.strandedAfterMs))
        options.logger.warn("released events a writer had left in their documents");
    });
    await step("sweeps", async () => {
      for (const [sweep, completed] of await options.outbox.runSweeps())
        if (completed > 0)
          options.logger.warn({ sweep, completed }, "completed work a writer had left half-done");
    });
    await step("lag", reportLag);
    if (running) timer = setTimeout(() => void poll(), pollMs);
  };
  timer = setTimeout(() => void poll(), 0);

  return {
    deadLetters,
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      for (const lane of local.values()) if (lane.retry) clearTimeout(lane.retry);
      await Promise.all([...local.values()].map((lane) => lane.serving));
    },
    async stats() {
      const oldest = await oldestPending();
      return {
        pending: await events.countDocuments({}, { comment: OBSERVE }),
        // enqueuedAt is in the database's time (Outbox.clock); a stamp may run a little ahead of
        // this replica's estimate of it (Outbox.prepare): never a negative age.
        oldestPendingMs: oldest
          ? Math.max(0, options.outbox.clock.nowMs() - oldest.enqueuedAt.getTime())
          : 0,
        delivered,
        failedAttempts,
        deadLetters: await deadLetters.collection.countDocuments({}, { comment: OBSERVE }),
      };
    },
  };
}

/** A subgraph server whose stop also stops its relay (first, so no delivery is cut mid-way). */
export function withRelay(
  server: { url: string; stop(): Promise<void> },
  relay: OutboxRelay,
): { url: string; relay: OutboxRelay; stop(): Promise<void> } {
  return {
    url: server.url,
    relay,
    async stop() {
      await relay.stop();
      await server.stop();
    },
  };
}

/**
 * True for a command the event machinery issues (the relay's lanes, the outbox, looking for events
 * a writer left in their documents; the inbox's majority marks): benchmarks and tests count a
 * request's own commands.
 */
export function isRelayCommand(commandName: string, command: Record<string, unknown>): boolean {
  const target = command[commandName];
  if (["outbox", "outbox_lanes", "dead_letters", "inbox_marks"].includes(String(target)))
    return true;
  if (command["comment"] === POLL || command["comment"] === OBSERVE) return true;
  const filter = command["filter"];
  return typeof filter === "object" && filter !== null && "outgoingSince" in filter;
}
