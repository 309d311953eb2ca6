import { randomUUID } from "node:crypto";
import type { ClientSession, Collection, Db, Document, Filter } from "mongodb";
import type { Channel } from "../channels.js";
import { DatabaseClock } from "../mongo/database-clock.js";
import { insertMissing } from "../mongo/insert-missing.js";
import { beside, onCommit } from "../mongo/transactions.js";
import type { SubgraphName } from "../settings/subgraph-urls.js";
import {
  destinationsOf,
  EVENT_CATALOGUE,
  receiversOf,
  type EventType,
  type NewEvent,
} from "./catalogue.js";
import { POLL } from "./command-tags.js";
import { DeadLetters } from "./dead-letters.js";
import type { EffectScope, TrackedDelivery } from "./effects.js";
import type { HubEvent } from "./hub-event.js";
import {
  carriedTraceContext,
  eventTraceContext,
  type EventTraceContext,
} from "../tracing/events.js";

export type { NewEvent } from "./catalogue.js";

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

/** The relay's reads of what a writer left: only what a majority holds (see releaseCommitted). */
const MAJORITY = { readConcern: { level: "majority" as const } };

/** A collection whose documents carry events (see CarriedEvents). */
type Carrier = Collection<Document>;

/**
 * How a carrier's document is addressed in a write: its full shard key (docs/scale.md), so a
 * sharded cluster sends the write to one shard rather than to all of them.
 */
export type DocumentAddress = (doc: Document) => Document;

/** Documents addressed by `_id` alone (collections sharded by `_id`, or not sharded). */
export const byId: DocumentAddress = (doc) => ({ _id: doc["_id"] });

/** Only documents that still carry events are in this index (released ones set it to null). */
const STRANDED = { outgoingSince: { $gt: new Date(0) } };

/**
 * The outbox of one subgraph. Two ways in, one way out: a transaction inserts its events with
 * `add`; a single-document write carries them (`carry`) and then `release`s them. The relay
 * delivers the outbox collection either way.
 */
export class Outbox {
  readonly events: Collection<OutboxDocument>;
  private listener: CommitListener | null = null;
  private readonly sweeps = new Map<string, (olderThanMs: number) => Promise<number>>();
  /** By collection name: repositories may each hold their own Collection object for one. */
  private readonly carriers = new Map<string, { collection: Carrier; address: DocumentAddress }>();
  /** Every subgraph this one sends events to (the catalogue's): each needs an address. */
  readonly destinations: readonly SubgraphName[];

  /**
   * How old carried events must be before the relay's sweep releases them for their writer; a
   * writer that took half of it to reach its own release checks that the sweep has not.
   */
  readonly strandedAfterMs: number;

  /**
   * The database's time: when events were enqueued and carried, so that the relay of another
   * replica, on another machine, judges them stranded by the same clock.
   */
  readonly clock: DatabaseClock;

  constructor(
    db: Db,
    readonly source: SubgraphName,
    options: { strandedAfterMs?: number; clock?: DatabaseClock } = {},
  ) {
    this.strandedAfterMs = options.strandedAfterMs ?? 5_000;
    this.clock = options.clock ?? DatabaseClock.of(db);
    this.destinations = destinationsOf(source);
    // The relay reads only what a majority has committed: after a failover it never delivers an
    // event whose transaction was rolled back.
    this.events = db.collection<OutboxDocument>("outbox", { readConcern: { level: "majority" } });
  }

  async ensureIndexes(): Promise<void> {
    await this.clock.calibrate();
    // The relay's head query: a destination's pending events in order (the _id breaks ties).
    await this.events.createIndex(
      { destination: 1, enqueuedAt: 1, _id: 1 },
      { name: "pending_by_destination" },
    );
    await this.events.createIndex({ enqueuedAt: 1 }, { name: "oldest_pending" });
    // The relay's lanes (one document per destination): created here rather than by its first
    // write, as every collection is (the `_id` index is the only one it needs).
    await this.events.db.collection("outbox_lanes").createIndex({ _id: 1 });
    await new DeadLetters(this.events.db, this.events).ensureIndexes();
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
    scope: EffectScope | null,
    /** The stamp to enqueue after (see `prepare`). */
    floor = 0,
  ): Promise<string> {
    const docs = this.prepare(event, floor);
    await this.addPrepared(session, docs, scope);
    return docs[0]?.eventId ?? "";
  }

  /** Stores events prepared by `prepare`, inside the caller's transaction (see `add`). */
  async addPrepared(
    session: ClientSession,
    docs: readonly OutboxDocument[],
    scope: EffectScope | null,
  ): Promise<void> {
    if (docs.length === 0) return;
    await this.events.insertMany([...docs], { session });
    onCommit(session, () => this.committed([...docs], scope));
  }

  /**
   * Inside a transaction that writes one document: adds the events it causes about that
   * document, stamped after every event written about it before (read here, in the transaction),
   * and records their last stamp on it in the same transaction (`enqueuedThrough`), so whichever
   * replica writes the document next stamps its events later still. A concurrent writer of the
   * document makes one of the two transactions fail on the write conflict and run again.
   */
  async addAbout<D extends Document>(
    session: ClientSession,
    about: { collection: Collection<D>; filter: Filter<D> },
    events: readonly NewEvent[],
    scope: EffectScope | null,
  ): Promise<void> {
    const collection = about.collection as unknown as Collection<Document>;
    const filter = about.filter as Filter<Document>;
    const doc = await collection.findOne(filter, {
      session,
      projection: { enqueuedThrough: 1, "outgoing.enqueuedAt": 1 },
    });
    const docs = this.prepareAll(events, this.floorOf((doc ?? {}) as CarriedEvents));
    if (docs.length === 0) return;
    await this.addPrepared(session, docs, scope);
    // A $set, not a $max (the embedded server has none): the stamp is later than the one read in
    // this transaction, and a write made since that read is a write conflict.
    await collection.updateOne(
      filter,
      { $set: { enqueuedThrough: docs[docs.length - 1]!.enqueuedAt } },
      { session },
    );
  }

  /**
   * The outbox documents of one event, one per receiver the catalogue names (to `add`, or to
   * carry in a document), enqueued at the database's time but after `floor` (ms): the last stamp
   * of the document the event is about (`floorOf`), or of the event before it in one write.
   */
  prepare(event: NewEvent, floor = 0): OutboxDocument[] {
    if (EVENT_CATALOGUE[event.type].producer !== this.source)
      throw new Error(`${event.type} is not produced by ${this.source} (events/catalogue.ts)`);
    const { id, ...decided } = event;
    const eventId = id ?? randomUUID();
    const enqueuedAt = new Date(Math.max(this.clock.nowMs(), floor + 1));
    const traced = eventTraceContext();
    return receiversOf(event.type).map((destination) => ({
      _id: `${eventId}:${destination}`,
      eventId,
      destination,
      ...decided,
      payload: event.payload as Record<string, unknown>,
      source: this.source,
      enqueuedAt,
      attempts: 0,
      lastError: null,
      ...traced,
    }));
  }

  /**
   * The events of one write, in order: each enqueued after `floor` and after the one before it
   * (a lane is sent by `enqueuedAt`, then by id, so two stamped in one millisecond would leave
   * in any order). Stamps run ahead of the clock only by the events of one write.
   */
  prepareAll(events: readonly NewEvent[], floor = 0): OutboxDocument[] {
    const docs: OutboxDocument[] = [];
    let last = floor;
    for (const event of events) {
      const prepared = this.prepare(event, last);
      last = prepared[0]?.enqueuedAt.getTime() ?? last;
      docs.push(...prepared);
    }
    return docs;
  }

  /**
   * The stamp a new event about `doc` must follow (ms): the last its writes recorded, or the
   * latest of the events it still carries (documents written before `enqueuedThrough` was).
   */
  floorOf(doc: CarriedEvents): number {
    return Math.max(
      doc.enqueuedThrough ? new Date(doc.enqueuedThrough).getTime() : 0,
      ...(doc.outgoing ?? []).map((event) => new Date(event.enqueuedAt).getTime()),
    );
  }

  /** The `enqueuedThrough` of `doc` once `events` (prepared after its floor) are written. */
  stampedThrough(doc: CarriedEvents, events: readonly OutboxDocument[]): Date | null {
    const through = Math.max(
      this.floorOf(doc),
      ...events.map((event) => event.enqueuedAt.getTime()),
    );
    return through > 0 ? new Date(through) : null;
  }

  /**
   * The fields a single-document write sets to carry `events` besides those its document already
   * carries (a writer that stopped before releasing them), and the document's last stamp: one
   * `$set` with the change, so the next writer of the document stamps after these.
   */
  carry(current: CarriedEvents, events: readonly OutboxDocument[]): Required<CarriedEvents> {
    const outgoing = [...(current.outgoing ?? []), ...events];
    return {
      outgoing,
      outgoingSince: outgoing.length > 0 ? (current.outgoingSince ?? this.clock.now()) : null,
      enqueuedThrough: this.stampedThrough(current, events),
    };
  }

  /**
   * Registers a collection whose documents carry events, so stranded ones are found, and how its
   * documents are addressed in writes.
   */
  carriedIn(collection: Carrier, address: DocumentAddress = byId): void {
    this.carriers.set(collection.collectionName, { collection, address });
  }

  /** How a carrier's documents are addressed in writes (registered with `carriedIn`). */
  addressOf(carrier: Carrier): DocumentAddress {
    return this.carriers.get(carrier.collectionName)?.address ?? byId;
  }

  private async ensureCarrierIndexes(): Promise<void> {
    for (const { collection: carrier } of this.carriers.values()) {
      // Partial: only documents carrying events are indexed (a sparse index held every document,
      // since released ones keep the field as null).
      await carrier.createIndex(
        { outgoingSince: 1 },
        { name: "outgoing_stranded", partialFilterExpression: STRANDED },
      );
      // The sparse index of earlier versions, if there is one (the embedded server cannot drop).
      await carrier.dropIndex("outgoing_since").catch(() => undefined);
    }
  }

  /**
   * After the carrying write: moves every event the document carries (its writer's and any an
   * earlier writer left) to the outbox collection, each id once, and clears them unless the
   * document changed since (`doc.version` is the one just written; a later writer carried these
   * events along and releases them itself). `scope` learns of their deliveries.
   */
  async release(
    carrier: Carrier,
    doc: Document & { version: number; outgoing?: readonly OutboxDocument[] },
    scope: EffectScope | null,
    /** When the writer wrote `doc` (performance.now()); absent for a sweep or a replay. */
    writtenAt?: number,
  ): Promise<void> {
    const docs = [...(doc.outgoing ?? [])];
    if (docs.length === 0) return;
    const address = this.addressOf(carrier)(doc);
    // A writer that stopped for long may find its events released by the sweep, delivered and
    // gone from the outbox: inserting them again would deliver them twice. Only such a writer
    // pays the read; receivers still absorb the duplicate a narrower race can make.
    if (writtenAt !== undefined && performance.now() - writtenAt > this.strandedAfterMs / 2) {
      const still = await carrier.countDocuments(
        { ...address, version: doc.version, ...STRANDED },
        { limit: 1 },
      );
      if (still === 0)
        return this.follow(
          docs.map((d) => d._id),
          scope,
        );
    }
    // Released twice (a stranded sweep racing the writer): the second finds them stored. One turn
    // for both writes: the outbox and the carrier may be written by transactions too.
    await beside(this.events.db, async () => {
      await insertMissing(this.events, docs);
      await carrier.updateOne(
        { ...address, version: doc.version },
        { $set: { outgoing: [], outgoingSince: null } },
      );
    });
    this.committed(docs, scope);
  }

  /**
   * Inside a transaction that rewrites a carrying document: its carried events go to the outbox
   * in the same transaction (the caller sets `outgoing: []` and `outgoingSince: null` in its
   * write), those already stored left alone (an insert of a stored id would abort it).
   */
  async releaseCarriedIn(
    session: ClientSession,
    carried: readonly OutboxDocument[] | undefined,
    scope: EffectScope | null,
  ): Promise<void> {
    if (!carried?.length) return;
    const ids = carried.map((doc) => doc._id);
    const stored = new Set(
      (await this.events.find({ _id: { $in: ids } }, { session }).toArray()).map((d) => d._id),
    );
    const missing = carried.filter((doc) => !stored.has(doc._id));
    if (missing.length > 0) await this.events.insertMany(missing, { session });
    onCommit(session, () => this.committed([...carried], scope));
  }

  /**
   * Releases what `seen` carries as a majority holds it, for a caller that found it carrying
   * events by reading it rather than by writing it (a sweep, a replay, a writer finishing
   * another's work). A read of the primary's own ("local") data may see a write that a failover
   * then rolls back: its events, stored by a retried insert on the new primary, would be
   * delivered though the change never happened; a majority-committed write is never rolled back.
   * Events `seen` carries that a majority does not hold yet are their writer's to release: `scope`
   * follows them if they are in the outbox already.
   */
  async releaseCommitted(
    carrier: Carrier,
    seen: CarriedEvents,
    scope: EffectScope | null,
  ): Promise<void> {
    const address = this.addressOf(carrier)(seen as Document);
    const committed = (await carrier.findOne(address, MAJORITY)) as
      (Document & { version: number; outgoing?: OutboxDocument[] }) | null;
    const released = new Set((committed?.outgoing ?? []).map((event) => event._id));
    if (committed && released.size > 0) await this.release(carrier, committed, scope);
    const others = (seen.outgoing ?? [])
      .map((event) => event._id)
      .filter((id) => !released.has(id));
    await this.follow(others, scope);
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

  /**
   * Another completion of writers that stopped half-way, run by the relay's poll after
   * `releaseStranded` (e.g. cards: issue claims whose card was not stored). It answers how many
   * it completed; it is given the age from which work counts as stranded.
   */
  onSweep(name: string, sweep: (olderThanMs: number) => Promise<number>): void {
    this.sweeps.set(name, sweep);
  }

  /**
   * The registered sweeps, each run: by name, how many it completed. Every sweep runs even when
   * one fails (a bad document must not stop the others' work); the failures are thrown after.
   */
  async runSweeps(): Promise<Map<string, number>> {
    const done = new Map<string, number>();
    const errors: unknown[] = [];
    for (const [name, sweep] of this.sweeps)
      await sweep(this.strandedAfterMs).then(
        (count) => done.set(name, count),
        (error: unknown) => errors.push(error),
      );
    if (errors.length > 0) throw new AggregateError(errors, "outbox sweeps failed");
    return done;
  }

  /**
   * Releases events whose writer stopped between its write and their release. One document that
   * cannot be released does not hold up the others; the failures are thrown after.
   */
  async releaseStranded(olderThanMs: number): Promise<number> {
    let released = 0;
    const errors: unknown[] = [];
    const cutoff = new Date(this.clock.nowMs() - olderThanMs);
    for (const { collection: carrier } of this.carriers.values()) {
      // Majority: a write a failover rolls back must not have its events released (see
      // releaseCommitted).
      const stranded = await carrier
        .find(
          { outgoingSince: { ...STRANDED.outgoingSince, $lte: cutoff } },
          { comment: POLL, ...MAJORITY },
        )
        .limit(100)
        .toArray();
      for (const doc of stranded) {
        const carrying = doc as unknown as Document & {
          version: number;
          outgoing?: OutboxDocument[];
        };
        // Their writer's request is gone: nobody waits for them.
        await this.release(carrier, carrying, null).then(
          () => (released += carrying.outgoing?.length ?? 0),
          (error: unknown) => errors.push(error),
        );
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "stranded events not released");
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
      ...carriedTraceContext(doc),
    };
  }
}
