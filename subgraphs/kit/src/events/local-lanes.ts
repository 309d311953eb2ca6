import type { Collection } from "mongodb";
import type { SubgraphName } from "../settings/subgraph-urls.js";
import { OBSERVERS } from "./catalogue.js";
import type { PendingEffect, TrackedDelivery } from "./effects.js";
import type { EventBatchAnswer } from "./event-batch.js";
import type { OutboxDocument } from "./outbox-document.js";

interface Waiter {
  resolve: (downstream: PendingEffect[]) => void;
  reject: (error: Error) => void;
}

/** This process's view of one lane: is it being served here, and who waits for which event. */
export interface LocalLane {
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

/** The lanes of one relay as this process sees them, by destination, made as they are first named. */
export class LocalLanes {
  private readonly lanes = new Map<string, LocalLane>();

  of(destination: string): LocalLane {
    let lane = this.lanes.get(destination);
    if (!lane) {
      lane = {
        destination,
        serving: null,
        again: false,
        urgent: false,
        waiters: new Map(),
        retry: null,
      };
      this.lanes.set(destination, lane);
    }
    return lane;
  }

  all(): LocalLane[] {
    return [...this.lanes.values()];
  }

  /**
   * What a request that committed `docs` can wait for: the delivery of each to its receiver (none
   * for observers, which nobody waits for).
   */
  track(docs: readonly OutboxDocument[]): TrackedDelivery[] {
    const tracked: TrackedDelivery[] = [];
    for (const doc of docs) {
      if (OBSERVERS.includes(doc.destination as SubgraphName)) continue;
      const delivered = new Promise<PendingEffect[]>((resolve, reject) =>
        this.of(doc.destination).waiters.set(doc._id, [
          ...(this.of(doc.destination).waiters.get(doc._id) ?? []),
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
    return tracked;
  }
}

/** Answers those waiting for `docs` (delivered: with what is pending further on). */
export function answerWaiters(
  lane: LocalLane,
  docs: readonly OutboxDocument[],
  pending: EventBatchAnswer["pending"],
): void {
  for (const doc of docs) {
    for (const waiter of lane.waiters.get(doc._id) ?? [])
      waiter.resolve(pending[doc.eventId] ?? []);
    lane.waiters.delete(doc._id);
  }
}

/** Those waiting for the event of outbox document `id` learn it failed (it was dead-lettered). */
export function rejectWaitersOf(lane: LocalLane, id: string, error: string): void {
  for (const waiter of lane.waiters.get(id) ?? []) waiter.reject(new Error(error));
  lane.waiters.delete(id);
}

/** Those waiting learn now that their effect is pending; the relay keeps the event. */
export function rejectWaiters(lane: LocalLane, message: string): void {
  for (const waiter of [...lane.waiters.values()].flat()) waiter.reject(new Error(message));
  lane.waiters.clear();
}

/** Those waiting for events no longer in the outbox (delivered, here or by another replica). */
export async function answerDelivered(
  lane: LocalLane,
  events: Collection<OutboxDocument>,
): Promise<void> {
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
