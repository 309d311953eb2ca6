import { randomUUID } from "node:crypto";
import type { ClientSession, Collection, Db } from "mongodb";
import type { Channel } from "../channels.js";
import { onCommit } from "../mongo/transactions.js";
import { currentEffectScope, type TrackedDelivery } from "./effects.js";
import type { HubEvent } from "./hub-event.js";

/**
 * One event for one destination subgraph, stored with the change that caused it and removed once
 * delivered: the collection holds only what is pending, so it stays small however long the hub
 * runs (on the embedded server every write slows as a collection grows).
 */
export interface OutboxDocument {
  _id: string;
  eventId: string;
  destination: string;
  type: string;
  payload: Record<string, unknown>;
  actor: string;
  channel: Channel;
  source: string;
  occurredAt: Date;
  /** Wall-clock time of enqueueing: delivery order and lag use it (occurredAt is domain time). */
  enqueuedAt: Date;
  attempts: number;
  lastError: string | null;
}

export interface NewEvent {
  type: string;
  payload: Record<string, unknown>;
  actor: string;
  channel: Channel;
  occurredAt: Date;
}

/**
 * Told of each committed batch of events; answers what the committing request can wait for
 * (only when `track` is true: a request that collects its effects).
 */
export type CommitListener = (docs: OutboxDocument[], track: boolean) => TrackedDelivery[];

/** The transactional outbox of one subgraph: events are inserted in the same transaction as the change. */
export class Outbox {
  readonly events: Collection<OutboxDocument>;
  private listener: CommitListener | null = null;

  /**
   * @param destinations every subgraph this one sends events to: the relay needs an address for
   *   each before the subgraph may start.
   */
  constructor(
    db: Db,
    readonly source: string,
    readonly destinations: readonly string[],
  ) {
    // The relay reads only what a majority has committed: after a failover it never delivers an
    // event whose transaction was rolled back.
    this.events = db.collection<OutboxDocument>("outbox", { readConcern: { level: "majority" } });
  }

  async ensureIndexes(): Promise<void> {
    // The relay's head query: a destination's pending events in order (the _id breaks ties).
    await this.events.createIndex(
      { destination: 1, enqueuedAt: 1, _id: 1 },
      { name: "pending_by_destination" },
    );
    await this.events.createIndex({ enqueuedAt: 1 }, { name: "oldest_pending" });
  }

  /** The relay listens: it is woken by each commit and tracks deliveries a request waits for. */
  onCommitted(listener: CommitListener): void {
    this.listener = listener;
  }

  /** Adds an event for each destination, inside the caller's transaction. */
  async add(
    session: ClientSession,
    event: NewEvent,
    destinations: readonly string[],
  ): Promise<string> {
    const unknown = destinations.filter((d) => !this.destinations.includes(d));
    if (unknown.length > 0)
      throw new Error(`${this.source} does not declare the destination(s) ${unknown.join(", ")}`);
    const eventId = randomUUID();
    const enqueuedAt = new Date();
    const docs: OutboxDocument[] = destinations.map((destination) => ({
      _id: `${eventId}:${destination}`,
      eventId,
      destination,
      ...event,
      source: this.source,
      enqueuedAt,
      attempts: 0,
      lastError: null,
    }));
    if (docs.length === 0) return eventId;
    await this.events.insertMany(docs, { session });
    // Taken now, not at commit: one transaction may apply several received events, each with its
    // own scope (inbox batches), and each must learn of its own effects only.
    const scope = currentEffectScope();
    onCommit(session, () => {
      const tracked = this.listener?.(docs, scope !== undefined) ?? [];
      scope?.deliveries.push(...tracked);
    });
    return eventId;
  }

  static toHubEvent(doc: OutboxDocument): HubEvent {
    return {
      id: doc.eventId,
      type: doc.type,
      payload: doc.payload,
      actor: doc.actor,
      channel: doc.channel,
      occurredAt: doc.occurredAt.toISOString(),
      source: doc.source,
    };
  }
}
