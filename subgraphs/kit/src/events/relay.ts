import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.js";
import { FREE_LEASE, Outbox, type OutboxDocument } from "./outbox.js";

export interface RelayOptions {
  outbox: Outbox;
  /** Where a destination subgraph receives events (its `/events` URL); undefined while unknown. */
  target: (destination: string) => string | undefined;
  /** A fresh service token for the destination to verify. */
  serviceToken: () => Promise<string>;
  logger: Logger;
  pollMs?: number;
  leaseMs?: number;
  /** Cap of the exponential retry backoff. */
  maxBackoffMs?: number;
  deliveryTimeoutMs?: number;
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
  /** Delivers what is due now (tests and shutdown use it). */
  drain(): Promise<void>;
}

/**
 * Polls the outbox and delivers each destination's events in order (head of line: an event is
 * only sent once the one before it for that destination was delivered). Each event is claimed
 * under a lease before it is sent, so several relays — one per subgraph replica — can run on one
 * outbox: a crashed relay's lease expires and another takes the event over. Delivery is at least
 * once; consumers apply each event id once.
 */
export function startOutboxRelay(options: RelayOptions): OutboxRelay {
  const instance = randomUUID();
  const pollMs = options.pollMs ?? 200;
  const leaseMs = options.leaseMs ?? 8_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const events = options.outbox.events;
  let running = true;
  let delivered = 0;
  let failedAttempts = 0;
  let wake: (() => void) | null = null;

  async function claimHead(destination: string): Promise<OutboxDocument | null> {
    const now = new Date();
    const head = await events
      .find({ destination, deliveredAt: null })
      .sort({ enqueuedAt: 1, _id: 1 })
      .limit(1)
      .next();
    if (!head || head.nextAttemptAt > now || head.leaseUntil > now) return null;
    return events.findOneAndUpdate(
      { _id: head._id, deliveredAt: null, leaseUntil: head.leaseUntil },
      { $set: { leaseOwner: instance, leaseUntil: new Date(now.getTime() + leaseMs) } },
      { returnDocument: "after" },
    );
  }

  /** True when the consumer accepted the event. */
  async function deliver(doc: OutboxDocument): Promise<boolean> {
    const url = options.target(doc.destination);
    try {
      if (!url) throw new Error(`no address known for ${doc.destination}`);
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${await options.serviceToken()}`,
        },
        body: JSON.stringify(Outbox.toHubEvent(doc)),
        signal: AbortSignal.timeout(options.deliveryTimeoutMs ?? Math.floor(leaseMs / 2)),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      // Marked whoever holds the lease now: the event did arrive, and consumers ignore repeats.
      await events.updateOne(
        { _id: doc._id },
        { $set: { deliveredAt: new Date(), leaseUntil: FREE_LEASE, leaseOwner: null } },
      );
      delivered += 1;
      return true;
    } catch (error) {
      failedAttempts += 1;
      const attempts = doc.attempts + 1;
      const backoff = Math.min(maxBackoffMs, 200 * 2 ** Math.min(attempts, 10));
      const message = error instanceof Error ? error.message : String(error);
      options.logger.warn(
        {
          eventId: doc.eventId,
          type: doc.type,
          destination: doc.destination,
          attempts,
          retryInMs: backoff,
          error: message,
        },
        "event delivery failed; will retry",
      );
      await events.updateOne(
        { _id: doc._id, leaseOwner: instance },
        {
          $set: {
            attempts,
            nextAttemptAt: new Date(Date.now() + backoff),
            leaseUntil: FREE_LEASE,
            leaseOwner: null,
            lastError: message,
          },
        },
      );
      return false;
    }
  }

  /** Delivers one destination's due events in order; true when something was attempted. */
  async function serve(destination: string): Promise<boolean> {
    let worked = false;
    let doc = await claimHead(destination);
    while (doc && running) {
      worked = true;
      // A failed head waits for its backoff: later events for that destination wait behind it.
      if (!(await deliver(doc))) break;
      doc = await claimHead(destination);
    }
    return worked;
  }

  /**
   * One pass over every destination with pending events, the destinations side by side: order
   * matters only within a destination, so a slow or hanging subgraph must not hold back the
   * events of the others (nor its database the others' transactions).
   */
  async function pass(): Promise<boolean> {
    const destinations = await events.distinct("destination", { deliveredAt: null });
    const worked = await Promise.all(destinations.map((destination) => serve(destination)));
    return worked.some(Boolean);
  }

  let lastLagReport = 0;
  /** A stuck queue shows in the logs: pending count and lag, at most every 30 s while it lasts. */
  const oldestPending = () =>
    events.find({ deliveredAt: null }).sort({ enqueuedAt: 1 }).limit(1).next();

  async function reportLag(): Promise<void> {
    if (Date.now() - lastLagReport < 30_000) return;
    const oldest = await oldestPending();
    if (!oldest || Date.now() - oldest.enqueuedAt.getTime() < 10_000) return;
    lastLagReport = Date.now();
    const pending = await events.countDocuments({ deliveredAt: null });
    options.logger.warn(
      {
        pending,
        oldestPendingMs: Date.now() - oldest.enqueuedAt.getTime(),
        destination: oldest.destination,
        lastError: oldest.lastError,
      },
      "outbox lag: events are waiting for delivery",
    );
  }

  const loop = (async () => {
    while (running) {
      let worked = false;
      try {
        worked = await pass();
        await reportLag();
      } catch (error) {
        options.logger.warn({ err: error }, "outbox relay pass failed");
      }
      if (!worked && running)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, pollMs);
        });
      wake = null;
    }
  })();

  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    async drain() {
      while (await pass()) {
        // keep going while events are due
      }
    },
    async stats() {
      const pending = await events.countDocuments({ deliveredAt: null });
      const oldest = await oldestPending();
      return {
        pending,
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
