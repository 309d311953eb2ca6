import { randomUUID } from "node:crypto";
import type { ClientSession, Collection, Db, Document } from "mongodb";
import type { Channel } from "../channels.js";
import { insertMissing } from "../mongo/insert-missing.js";
import { onCommit } from "../mongo/transactions.js";
import { POLL } from "./command-tags.js";
import type { EffectScope, TrackedDelivery } from "./effects.js";
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

/**
 * Events a plain (non-transactional) write stores inside the document it changes: the change and
 * its events are one atomic single-document write. `release` then hands them to the outbox
 * collection and clears them; `releaseStranded` does it for a writer that stopped in between.
 */
export interface CarriedEvents {
  outgoing?: OutboxDocument[];
  /** When the oldest carried event was written; null once released. */
  outgoingSince?: Date | null;
}

/** A collection whose documents carry events (see CarriedEvents), and the version field guarding them. */
type Carrier = Collection<Document>;

/**
 * The outbox of one subgraph. Two ways in, one way out: a transaction inserts its events with
 * `add`; a single-document write carries them (`carry`) and then `release`s them. The relay
 * delivers the outbox collection either way.
 */
export class Outbox {
  readonly events: Collection<OutboxDocument>;
  private listener: CommitListener | null = null;
  private readonly carriers = new Set<Carrier>();

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
    // The relay's lanes (one document per destination): created here rather than by its first
    // write, as every collection is (the `_id` index is the only one it needs).
    await this.events.db.collection("outbox_lanes").createIndex({ _id: 1 });
    await this.ensureCarrierIndexes();
  }

  /** The relay listens: it is woken by each commit and tracks deliveries a request waits for. */
  onCommitted(listener: CommitListener): void {
    this.listener = listener;
  }

  /**
   * Adds an event for each destination, inside the caller's transaction; once it commits, `scope`
   * (the request's, or null when nobody waits) learns of their deliveries.
   */
  async add(
    session: ClientSession,
    event: NewEvent,
    destinations: readonly string[],
    scope: EffectScope | null,
  ): Promise<string> {
    const docs = this.prepare(event, destinations);
    if (docs.length === 0) return "";
    await this.events.insertMany(docs, { session });
    onCommit(session, () => this.committed(docs, scope));
    return docs[0]!.eventId;
  }

  /** The outbox documents of one event, one per destination (to `add`, or to carry in a document). */
  prepare(event: NewEvent, destinations: readonly string[]): OutboxDocument[] {
    const unknown = destinations.filter((d) => !this.destinations.includes(d));
    if (unknown.length > 0)
      throw new Error(`${this.source} does not declare the destination(s) ${unknown.join(", ")}`);
    const eventId = randomUUID();
    const enqueuedAt = new Date();
    return destinations.map((destination) => ({
      _id: `${eventId}:${destination}`,
      eventId,
      destination,
      ...event,
      source: this.source,
      enqueuedAt,
      attempts: 0,
      lastError: null,
    }));
  }

  /**
   * The fields a single-document write sets to carry `events` besides those its document already
   * carries (a writer that stopped before releasing them): one `$set` with the change.
   */
  carry(current: CarriedEvents, events: readonly OutboxDocument[]): Required<CarriedEvents> {
    const outgoing = [...(current.outgoing ?? []), ...events];
    return {
      outgoing,
      outgoingSince: outgoing.length > 0 ? (current.outgoingSince ?? new Date()) : null,
    };
  }

  /** Registers a collection whose documents carry events, so stranded ones are found. */
  carriedIn(collection: Carrier): void {
    this.carriers.add(collection);
  }

  private async ensureCarrierIndexes(): Promise<void> {
    for (const carrier of this.carriers)
      await carrier.createIndex({ outgoingSince: 1 }, { name: "outgoing_since", sparse: true });
  }

  /**
   * After the carrying write: moves the document's events to the outbox collection (each id once)
   * and clears them unless the document changed since (`version` is the one just written; a later
   * writer carried these events along and releases them itself). `scope` learns of their deliveries.
   */
  async release(
    carrier: Carrier,
    documentId: unknown,
    version: number,
    docs: readonly OutboxDocument[],
    scope: EffectScope | null,
  ): Promise<void> {
    if (docs.length === 0) return;
    // Released twice (a stranded sweep racing the writer): the second finds them stored.
    await insertMissing(this.events, [...docs]);
    await carrier.updateOne({ _id: documentId, version } as Document, {
      $set: { outgoing: [], outgoingSince: null },
    });
    this.committed([...docs], scope);
  }

  /**
   * A replayed request waits for the events its first call caused, as the first call did: those
   * still in the outbox are tracked (and their lanes woken); delivered ones are gone.
   */
  async follow(ids: readonly string[] | undefined, scope: EffectScope | null): Promise<void> {
    if (!ids || ids.length === 0) return;
    const pending = await this.events.find({ _id: { $in: [...ids] } }).toArray();
    if (pending.length > 0) this.committed(pending, scope);
  }

  /** Releases events whose writer stopped between its write and their release. */
  async releaseStranded(olderThanMs: number): Promise<number> {
    let released = 0;
    const cutoff = new Date(Date.now() - olderThanMs);
    for (const carrier of this.carriers) {
      const stranded = await carrier
        .find({ outgoingSince: { $ne: null, $lte: cutoff } }, { comment: POLL })
        .limit(100)
        .toArray();
      for (const doc of stranded) {
        const outgoing = (doc["outgoing"] ?? []) as OutboxDocument[];
        // Their writer's request is gone: nobody waits for them.
        await this.release(carrier, doc._id, Number(doc["version"]), outgoing, null);
        released += outgoing.length;
      }
    }
    return released;
  }

  private committed(docs: OutboxDocument[], scope: EffectScope | null): void {
    const tracked = this.listener?.(docs, scope !== null) ?? [];
    scope?.deliveries.push(...tracked);
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
