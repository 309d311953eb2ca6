import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.js";
import { beside } from "../mongo/transactions.js";
import { DEFAULT_EVENT_MAX_ATTEMPTS } from "../settings/subgraph-env.js";
import type { PendingEffect, TrackedDelivery } from "./effects.js";
import { OBSERVE, POLL } from "./command-tags.js";
import { DeadLetters } from "./dead-letters.js";
import { EFFECT_BUDGET_HEADER, type EventBatchAnswer } from "./event-batch.js";
import { faultPoint } from "./fault-points.js";
import { LaneLeases, type LaneDocument, type Lease } from "./lane-lease.js";
import { Outbox, type OutboxDocument } from "./outbox.js";

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

type Outcome = "done" | "failed" | "busy" | "backing-off";

/** What one delivery of a batch came to. */
type Sent = "accepted" | "moved-on" | "failed" | "lost-lane";

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
  const pollMs = options.pollMs ?? 500;
  const leaseMs = options.leaseMs ?? 8_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const batchSize = options.batchSize ?? 100;
  // A delivery ends within a lease of the last confirmation (LaneLeases).
  const deliveryTimeoutMs = Math.min(options.deliveryTimeoutMs ?? leaseMs / 2, (leaseMs * 3) / 4);
  const downstreamBudgetMs = options.downstreamBudgetMs ?? 1_500;
  const maxAttempts = options.maxAttempts ?? DEFAULT_EVENT_MAX_ATTEMPTS;
  const events = options.outbox.events;
  const leases = new LaneLeases(
    events.db.collection<LaneDocument>("outbox_lanes"),
    instance,
    leaseMs,
  );
  const deadLetters = new DeadLetters(events.db, events);
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

  const backoffFor = (attempts: number) =>
    // Jitter: replicas retrying one receiver do not come back in step.
    Math.min(maxBackoffMs, 200 * 2 ** Math.min(attempts, 10)) * (0.8 + Math.random() * 0.4);

  /** Answers those waiting for `docs` (delivered: with what is pending further on). */
  function answer(lane: LocalLane, docs: OutboxDocument[], pending: EventBatchAnswer["pending"]) {
    for (const doc of docs) {
      for (const waiter of lane.waiters.get(doc._id) ?? [])
        waiter.resolve(pending[doc.eventId] ?? []);
      lane.waiters.delete(doc._id);
    }
  }

  /** One delivery of `batch` while holding `lease`. */
  async function send(lease: Lease, batch: OutboxDocument[]): Promise<Sent> {
    const { destination } = lease;
    const url = options.target(destination);
    let reply: Partial<EventBatchAnswer>;
    try {
      if (!url) throw new Error(`no address known for ${destination}`);
      await faultPoint("before-delivery", { destination, epoch: lease.epoch });
      if (!(await leases.confirm(lease))) return "lost-lane";
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${await options.serviceToken()}`,
          [EFFECT_BUDGET_HEADER]: String(downstreamBudgetMs),
        },
        body: JSON.stringify({ events: batch.map(Outbox.toHubEvent) }),
        signal: AbortSignal.timeout(deliveryTimeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      reply = (await response.json()) as Partial<EventBatchAnswer>;
    } catch (error) {
      // The receiver is down, slow or refusing: no event is at fault, the lane waits and retries.
      const message = error instanceof Error ? error.message : String(error);
      await laneFailed(lease, batch.length, lease.attempts + 1, message);
      return "failed";
    }
    const failedAt = reply.failed
      ? batch.findIndex((d) => d.eventId === reply.failed?.eventId)
      : -1;
    const accepted = failedAt < 0 ? batch : batch.slice(0, failedAt);
    if (accepted.length > 0) {
      // Beside the transactions that add events (on the embedded server a commit could undo it).
      await beside(events.db, () =>
        events.deleteMany({ _id: { $in: accepted.map((doc) => doc._id) } }),
      );
      delivered += accepted.length;
      answer(laneOf(destination), accepted, reply.pending ?? {});
    }
    if (failedAt < 0) return "accepted";
    return eventFailed(lease, batch[failedAt]!, reply.failed!.error);
  }

  /** The receiver could not apply `doc`: tried again after a backoff, or set aside. */
  async function eventFailed(lease: Lease, doc: OutboxDocument, error: string): Promise<Sent> {
    const attempts = doc.attempts + 1;
    if (attempts >= maxAttempts) {
      await deadLetters.bury({ ...doc, attempts }, error);
      options.logger.error(
        { destination: lease.destination, eventId: doc.eventId, type: doc.type, attempts, error },
        "event dead-lettered: its receiver failed to apply it; the lane moves on",
      );
      const lane = laneOf(lease.destination);
      for (const waiter of lane.waiters.get(doc._id) ?? []) waiter.reject(new Error(error));
      lane.waiters.delete(doc._id);
      return "moved-on";
    }
    await beside(events.db, () =>
      events.updateOne({ _id: doc._id }, { $set: { attempts, lastError: error } }),
    );
    await laneFailed(lease, 1, attempts, `${doc.type} ${doc.eventId}: ${error}`);
    return "failed";
  }

  async function laneFailed(lease: Lease, count: number, attempts: number, message: string) {
    failedAttempts += 1;
    const backoff = backoffFor(attempts);
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
    await leases.backOff(lease, attempts, backoff, message);
    // Those waiting learn now that their effect is pending; the relay keeps the event.
    const lane = laneOf(lease.destination);
    for (const waiter of [...lane.waiters.values()].flat()) waiter.reject(new Error(message));
    lane.waiters.clear();
    retryAfter(lane, backoff);
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
      for (;;) {
        const batch = await events
          .find({ destination })
          .sort({ enqueuedAt: 1, _id: 1 })
          .limit(batchSize)
          .toArray();
        if (batch.length === 0) break;
        const sent = await send(lease, batch);
        if (sent === "failed") return "failed";
        if (sent === "lost-lane") return "busy";
        if (failedBefore) {
          await leases.clearBackoff(lease);
          failedBefore = false;
        }
        // A short batch delivered whole was all there was: what commits meanwhile wakes the lane.
        if (!running || (sent === "accepted" && batch.length < batchSize)) break;
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
    lane.serving = serve(lane).finally(() => {
      lane.serving = null;
      if (lane.again && running) wake(destination, lane.urgent);
    });
  }

  options.outbox.onCommitted((docs, track) => {
    const tracked: TrackedDelivery[] = [];
    if (track) {
      for (const doc of docs) {
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
    if (!oldest || Date.now() - oldest.enqueuedAt.getTime() < 10_000) return;
    lastLagReport = Date.now();
    options.logger.warn(
      {
        pending: await events.countDocuments({}, { comment: OBSERVE }),
        oldestPendingMs: Date.now() - oldest.enqueuedAt.getTime(),
        destination: oldest.destination,
        lastError: oldest.lastError,
      },
      "outbox lag: events are waiting for delivery",
    );
  }

  let timer: NodeJS.Timeout | null = null;
  const poll = async () => {
    try {
      // A writer that stopped between its single-document write and the release of its events.
      if (await options.outbox.releaseStranded(options.outbox.strandedAfterMs))
        options.logger.warn("released events a writer had left in their documents");
      for (const [sweep, completed] of await options.outbox.runSweeps())
        if (completed > 0)
          options.logger.warn({ sweep, completed }, "completed work a writer had left half-done");
      for (const destination of await events.distinct("destination", {}, { comment: POLL }))
        wake(String(destination), false);
      await reportLag();
    } catch (error) {
      options.logger.warn({ err: error }, "outbox relay poll failed");
    }
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
        oldestPendingMs: oldest ? Date.now() - oldest.enqueuedAt.getTime() : 0,
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
 * True for a command the relay issues (its lanes, the outbox, and looking for events a writer
 * left in their documents): benchmarks and tests count a request's own commands.
 */
export function isRelayCommand(commandName: string, command: Record<string, unknown>): boolean {
  const target = command[commandName];
  if (target === "outbox" || target === "outbox_lanes" || target === "dead_letters") return true;
  if (command["comment"] === POLL || command["comment"] === OBSERVE) return true;
  const filter = command["filter"];
  return typeof filter === "object" && filter !== null && "outgoingSince" in filter;
}
