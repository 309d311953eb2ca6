import { randomUUID } from "node:crypto";
import type { ClientSession, Collection, Db } from "mongodb";
import type { Channel } from "../channels.js";
import type { HubEvent } from "./hub-event.js";

/** One event for one destination subgraph, stored with the change that caused it. */
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
  nextAttemptAt: Date;
  leaseOwner: string | null;
  /** Epoch 0 when free; a claim is valid until this time. */
  leaseUntil: Date;
  deliveredAt: Date | null;
  lastError: string | null;
}

export interface NewEvent {
  type: string;
  payload: Record<string, unknown>;
  actor: string;
  channel: Channel;
  occurredAt: Date;
}

export const FREE_LEASE = new Date(0);

/** The transactional outbox of one subgraph: events are inserted in the same transaction as the change. */
export class Outbox {
  readonly events: Collection<OutboxDocument>;

  constructor(
    db: Db,
    readonly source: string,
  ) {
    this.events = db.collection<OutboxDocument>("outbox");
  }

  async ensureIndexes(): Promise<void> {
    await this.events.createIndex(
      { destination: 1, deliveredAt: 1, enqueuedAt: 1 },
      { name: "pending_by_destination" },
    );
  }

  /** Adds an event for each destination, inside the caller's transaction. */
  async add(
    session: ClientSession,
    event: NewEvent,
    destinations: readonly string[],
  ): Promise<string> {
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
      nextAttemptAt: enqueuedAt,
      leaseOwner: null,
      leaseUntil: FREE_LEASE,
      deliveredAt: null,
      lastError: null,
    }));
    if (docs.length > 0) await this.events.insertMany(docs, { session });
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
