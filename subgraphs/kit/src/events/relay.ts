import { randomUUID } from "node:crypto";
import type { Collection } from "mongodb";
import type { Logger } from "../logger.js";
import type { PendingEffect, TrackedDelivery } from "./effects.js";
import { OBSERVE, POLL } from "./command-tags.js";
import { EFFECT_BUDGET_HEADER, type EventBatchAnswer } from "./event-batch.js";
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
  /** How long a relay owns a destination's lane before another replica may take it over. */
  leaseMs?: number;
  /** Cap of the exponential retry backoff. */
  maxBackoffMs?: number;
  deliveryTimeoutMs?: number;
  /** Events sent in one delivery (one HTTP call, one receiver transaction). */
  batchSize?: number;
  /** How old carried events must be before the relay releases them for their writer. */
  strandedAfterMs?: number;
  /** What a receiver may spend delivering its own effects before it answers (HUB_EFFECT_WAIT_MS / 2). */
  downstreamBudgetMs?: number;
}

export interface RelayStats {
  pending: number;
  /** Age of the oldest undelivered event: the relay's lag. */
  oldestPendingMs: number;
  delivered: number;
  failedAttempts: number;
}

export interface OutboxRelay {
  stop(): Promise<void>;
  stats(): Promise<RelayStats>;
}

/**
 * Who delivers a destination's events now. One lane per destination, shared by every replica of
 * the subgraph through the database: the owner delivers the destination's events in order, in
 * batches; a crashed owner's lease runs out and another replica takes over.
 */
interface LaneDocument {
  _id: string;
  owner: string | null;
  leaseUntil: Date;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
}

const EPOCH = new Date(0);

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

/**
 * Delivers the outbox. Woken by every commit of this process (no poll wait when there is work),
 * it sends each destination's pending events in order, up to `batchSize` in one HTTP call that
 * the receiver applies in one transaction, and deletes them once accepted. A request that waits
 * for its effects (contract v2) is told when its events arrive, with what is still pending
 * further down the line; a failed delivery answers those waiting at once and is retried with
 * backoff. Delivery is at least once; consumers apply each event id once.
 */
export function startOutboxRelay(options: RelayOptions): OutboxRelay {
  const instance = randomUUID();
  const pollMs = options.pollMs ?? 500;
  const leaseMs = options.leaseMs ?? 8_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const batchSize = options.batchSize ?? 100;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? Math.floor(leaseMs / 2);
  const downstreamBudgetMs = options.downstreamBudgetMs ?? 1_500;
  const strandedAfterMs = options.strandedAfterMs ?? 5_000;
  const events = options.outbox.events;
  const lanes: Collection<LaneDocument> = events.db.collection<LaneDocument>("outbox_lanes");
  const local = new Map<string, LocalLane>();
  const ensured = new Set<string>();
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

  async function claim(destination: string, urgent: boolean): Promise<LaneDocument | Outcome> {
    if (!ensured.has(destination)) {
      await lanes.updateOne(
        { _id: destination },
        {
          $setOnInsert: {
            owner: null,
            leaseUntil: EPOCH,
            attempts: 0,
            nextAttemptAt: EPOCH,
            lastError: null,
          },
        },
        { upsert: true },
      );
      ensured.add(destination);
    }
    const now = new Date();
    const claimed = await lanes.findOneAndUpdate(
      urgent
        ? { _id: destination, leaseUntil: { $lte: now } }
        : { _id: destination, leaseUntil: { $lte: now }, nextAttemptAt: { $lte: now } },
      { $set: { owner: instance, leaseUntil: new Date(now.getTime() + leaseMs) } },
      { returnDocument: "after" },
    );
    if (claimed) return claimed;
    const lane = await lanes.findOne({ _id: destination });
    return lane && lane.leaseUntil > now ? "busy" : "backing-off";
  }

  /** One delivery of `batch`; true when the receiver accepted every event of it. */
  async function send(
    destination: string,
    batch: OutboxDocument[],
    laneAttempts: number,
  ): Promise<boolean> {
    const url = options.target(destination);
    try {
      if (!url) throw new Error(`no address known for ${destination}`);
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
      const answer = (await response.json()) as Partial<EventBatchAnswer>;
      await events.deleteMany({ _id: { $in: batch.map((doc) => doc._id) } });
      delivered += batch.length;
      const lane = laneOf(destination);
      for (const doc of batch) {
        const downstream = answer.pending?.[doc.eventId] ?? [];
        for (const waiter of lane.waiters.get(doc._id) ?? []) waiter.resolve(downstream);
        lane.waiters.delete(doc._id);
      }
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await failed(destination, batch, laneAttempts + 1, message);
      return false;
    }
  }

  async function failed(
    destination: string,
    batch: OutboxDocument[],
    attempts: number,
    message: string,
  ) {
    failedAttempts += 1;
    const backoff = Math.min(maxBackoffMs, 200 * 2 ** Math.min(attempts, 10));
    options.logger.warn(
      { destination, events: batch.length, attempts, retryInMs: backoff, error: message },
      "event delivery failed; will retry",
    );
    await lanes.updateOne(
      { _id: destination, owner: instance },
      {
        $set: { attempts, nextAttemptAt: new Date(Date.now() + backoff), lastError: message },
      },
    );
    await events.updateMany(
      { _id: { $in: batch.map((doc) => doc._id) } },
      { $inc: { attempts: 1 }, $set: { lastError: message } },
    );
    // Those waiting learn now that their effect is pending; the relay keeps the event.
    const lane = laneOf(destination);
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
    const lane = await claim(destination, urgent);
    if (typeof lane === "string") return lane;
    let leaseUntil = lane.leaseUntil.getTime();
    try {
      for (;;) {
        const batch = await events
          .find({ destination })
          .sort({ enqueuedAt: 1, _id: 1 })
          .limit(batchSize)
          .toArray();
        if (batch.length === 0) break;
        if (!(await send(destination, batch, lane.attempts))) return "failed";
        // A short batch was all there was: what commits meanwhile wakes the lane again.
        if (!running || batch.length < batchSize) break;
        if (leaseUntil - Date.now() < leaseMs / 2) {
          leaseUntil = Date.now() + leaseMs;
          await lanes.updateOne(
            { _id: destination, owner: instance },
            { $set: { leaseUntil: new Date(leaseUntil) } },
          );
        }
      }
      if (lane.attempts > 0)
        await lanes.updateOne(
          { _id: destination, owner: instance },
          { $set: { attempts: 0, nextAttemptAt: EPOCH, lastError: null } },
        );
      return "done";
    } finally {
      await lanes.updateOne(
        { _id: destination, owner: instance },
        { $set: { owner: null, leaseUntil: EPOCH } },
      );
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
      if (await options.outbox.releaseStranded(strandedAfterMs))
        options.logger.warn("released events a writer had left in their documents");
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
  if (target === "outbox" || target === "outbox_lanes") return true;
  if (command["comment"] === POLL || command["comment"] === OBSERVE) return true;
  const filter = command["filter"];
  return typeof filter === "object" && filter !== null && "outgoingSince" in filter;
}
