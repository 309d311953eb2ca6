import type { Collection, Document } from "mongodb";
import type { Channel } from "../channels.js";
import { carriedTraceContext, type EventTraceContext } from "../tracing/events.js";
import type { EventType } from "./catalogue.js";
import type { TrackedDelivery } from "./effects.js";
import type { HubEvent } from "./hub-event.js";

/**
 * One event for one destination subgraph, stored with the change that caused it and removed once
 * delivered: the collection holds only what is pending, so it stays small however long the hub
 * runs (on the embedded server every write slows as a collection grows).
 */
export interface OutboxDocument extends EventTraceContext {
  _id: string;
  eventId: string;
  destination: string;
  type: EventType;
  payload: Record<string, unknown>;
  actor: string;
  channel: Channel;
  source: string;
  occurredAt: Date;
  /** Wall-clock time of enqueueing: delivery order and lag use it (occurredAt is domain time). */
  enqueuedAt: Date;
  /** Deliveries the receiver answered with a failure of this event (not transport failures). */
  attempts: number;
  lastError: string | null;
}

/**
 * Told of each committed batch of events; answers what the committing request can wait for
 * (only when `track` is true: a request that collects its effects).
 */
export type CommitListener = (docs: OutboxDocument[], track: boolean) => TrackedDelivery[];

/**
 * Events a plain (non-transactional) write stores inside the document it changes: the change and
 * its events are one atomic single-document write. `release` then hands them to the outbox
 * collection and clears them; `releaseStranded` does it for a writer that stopped in between.
 */
export interface CarriedEvents extends EnqueueStamped {
  outgoing?: OutboxDocument[];
  /** When the oldest carried event was written; null once released. */
  outgoingSince?: Date | null;
}

/**
 * A document events are written about. A lane is sent by `enqueuedAt`, and the replicas that
 * write one document stamp by their own estimates of the database's time, which differ: so each
 * write stamps its events after the last stamp the document records (`enqueuedThrough`, written
 * by the same write), and one document's events leave in the order its writes were made.
 */
export interface EnqueueStamped {
  /** The latest `enqueuedAt` of the events written about this document; absent before any. */
  enqueuedThrough?: Date | null;
}

/** A collection whose documents carry events (see CarriedEvents). */
export type Carrier = Collection<Document>;

/** A carrier's document as its writer wrote it: the version written and the events it carries. */
export type CarryingDocument = Document & { version: number; outgoing?: readonly OutboxDocument[] };

/**
 * How a carrier's document is addressed in a write: its full shard key (docs/scale.md), so a
 * sharded cluster sends the write to one shard rather than to all of them.
 */
export type DocumentAddress = (doc: Document) => Document;

/** Documents addressed by `_id` alone (collections sharded by `_id`, or not sharded). */
export const byId: DocumentAddress = (doc) => ({ _id: doc["_id"] });

/** Only documents that still carry events are in this index (released ones set it to null). */
export const STRANDED = { outgoingSince: { $gt: new Date(0) } };

/** The event an outbox document sends (what its receiver's inbox reads). */
export function toHubEvent(doc: OutboxDocument): HubEvent {
  return {
    id: doc.eventId,
    type: doc.type,
    payload: doc.payload,
    actor: doc.actor,
    channel: doc.channel,
    occurredAt: doc.occurredAt.toISOString(),
    source: doc.source,
    ...carriedTraceContext(doc),
  };
}
