import { randomUUID } from "node:crypto";
import { OBSERVE, POLL } from "./command-tags.js";
import { DeadLetters } from "./dead-letters.js";
import { LaneLeases, type LaneDocument } from "./lane-lease.js";
import { LaneService } from "./lane-service.js";
import { oldestPending, startRelayPoll } from "./relay-poll.js";
import { relaySettings, type RelayOptions } from "./relay-settings.js";

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

/**
 * Delivers the outbox. Woken by every commit of this process (no poll wait when there is work),
 * it sends each destination's pending events in order, up to `batchSize` in one HTTP call, while
 * it holds the destination's lane (LaneLeases), and deletes those the receiver applied. A request
 * that waits for its effects (contract v2) is told when its events arrive, with what is still
 * pending further down the line. A transport failure is retried with backoff for as long as it
 * lasts; an event its receiver fails to apply is retried `maxAttempts` times, then dead-lettered
 * so the lane moves on. Delivery is at least once; receivers converge by version.
 *
 * Its parts: the lanes served here (lane-service.ts) and their waiting requests (local-lanes.ts),
 * one batch's delivery (batch-delivery.ts), the poll for other work (relay-poll.ts), and the
 * settings with their defaults (relay-settings.ts).
 */
export function startOutboxRelay(options: RelayOptions): OutboxRelay {
  const settings = relaySettings(options);
  const events = options.outbox.events;
  const leases = new LaneLeases(
    events.db.collection<LaneDocument>("outbox_lanes"),
    randomUUID(),
    settings.leaseMs,
    undefined,
    options.outbox.clock,
  );
  const deadLetters = new DeadLetters(events.db, events, options.outbox.clock);
  const service = new LaneService(options, settings, leases, deadLetters);

  options.outbox.onCommitted((docs, track) => {
    const tracked = track ? service.lanes.track(docs) : [];
    for (const destination of new Set(docs.map((doc) => doc.destination)))
      service.wake(destination, track);
    return tracked;
  });

  const poll = startRelayPoll(options, settings.pollMs, (destination) =>
    service.wake(destination, false),
  );

  return {
    deadLetters,
    async stop() {
      poll.stop();
      await service.stop();
    },
    async stats() {
      const oldest = await oldestPending(events);
      return {
        pending: await events.countDocuments({}, { comment: OBSERVE }),
        // enqueuedAt is in the database's time (Outbox.clock); a stamp may run a little ahead of
        // this replica's estimate of it (Outbox.prepare): never a negative age.
        oldestPendingMs: oldest
          ? Math.max(0, options.outbox.clock.nowMs() - oldest.enqueuedAt.getTime())
          : 0,
        delivered: service.delivery.delivered,
        failedAttempts: service.delivery.failedAttempts,
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
