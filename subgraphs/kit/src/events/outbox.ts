import type { ClientSession, Collection, Db, Document, Filter } from "mongodb";
import { DatabaseClock } from "../mongo/database-clock.js";
import { onCommit } from "../mongo/transactions.js";
import type { SubgraphName } from "../settings/subgraph-urls.js";
import { destinationsOf, type NewEvent } from "./catalogue.js";
import { DeadLetters } from "./dead-letters.js";
import type { EffectScope } from "./effects.js";
import type { HubEvent } from "./hub-event.js";
import {
  byId,
  STRANDED,
  toHubEvent,
  type CarriedEvents,
  type Carrier,
  type CarryingDocument,
  type CommitListener,
  type DocumentAddress,
  type OutboxDocument,
} from "./outbox-document.js";
import {
  follow,
  release,
  releaseCarriedIn,
  releaseCommitted,
  type ReleaseTarget,
} from "./outbox-release.js";
import {
  carriedFields,
  floorOf,
  prepareEvent,
  prepareEvents,
  stampedThrough,
} from "./outbox-stamps.js";
import { releaseStranded, runSweeps, type Sweep } from "./outbox-sweeps.js";

export type { NewEvent } from "./catalogue.js";

/**
 * The outbox of one subgraph. Two ways in, one way out: a transaction inserts its events with
 * `add`; a single-document write carries them (`carry`) and then `release`s them. The relay
 * delivers the outbox collection either way.
 *
 * The work is done beside it: stamping events (outbox-stamps.ts), moving carried events to the
 * outbox collection (outbox-release.ts), and completing what stopped writers left
 * (outbox-sweeps.ts); the stored shapes are in outbox-document.ts.
 */
export class Outbox {
  readonly events: Collection<OutboxDocument>;
  private listener: CommitListener | null = null;
  private readonly sweeps = new Map<string, Sweep>();
  /** By collection name: repositories may each hold their own Collection object for one. */
  private readonly carriers = new Map<string, { collection: Carrier; address: DocumentAddress }>();
  /** What the release functions use of this outbox (its `committed` stays private). */
  private readonly releasing: ReleaseTarget;
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
    this.releasing = {
      events: this.events,
      strandedAfterMs: this.strandedAfterMs,
      addressOf: (carrier) => this.addressOf(carrier),
      committed: (docs, scope) => this.committed(docs, scope),
    };
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

  /** The outbox documents of one event, enqueued after `floor` (outbox-stamps.ts: prepareEvent). */
  prepare(event: NewEvent, floor = 0): OutboxDocument[] {
    return prepareEvent(this.source, this.clock, event, floor);
  }

  /** The events of one write, in order (outbox-stamps.ts: prepareEvents). */
  prepareAll(events: readonly NewEvent[], floor = 0): OutboxDocument[] {
    return prepareEvents(this.source, this.clock, events, floor);
  }

  /** The stamp a new event about `doc` must follow (ms) (outbox-stamps.ts). */
  floorOf(doc: CarriedEvents): number {
    return floorOf(doc);
  }

  /** The `enqueuedThrough` of `doc` once `events` (prepared after its floor) are written. */
  stampedThrough(doc: CarriedEvents, events: readonly OutboxDocument[]): Date | null {
    return stampedThrough(doc, events);
  }

  /**
   * The fields a single-document write sets to carry `events`, and the document's last stamp
   * (outbox-stamps.ts: carriedFields).
   */
  carry(current: CarriedEvents, events: readonly OutboxDocument[]): Required<CarriedEvents> {
    return carriedFields(this.clock, current, events);
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
   * After the carrying write: moves the events the document carries to the outbox collection
   * and clears them unless the document changed since (outbox-release.ts: release).
   */
  release(
    carrier: Carrier,
    doc: CarryingDocument,
    scope: EffectScope | null,
    /** When the writer wrote `doc` (performance.now()); absent for a sweep or a replay. */
    writtenAt?: number,
  ): Promise<void> {
    return release(this.releasing, carrier, doc, scope, writtenAt);
  }

  /** Inside a transaction that rewrites a carrying document: its carried events go to the outbox. */
  releaseCarriedIn(
    session: ClientSession,
    carried: readonly OutboxDocument[] | undefined,
    scope: EffectScope | null,
  ): Promise<void> {
    return releaseCarriedIn(this.releasing, session, carried, scope);
  }

  /**
   * Releases what `seen` carries as a majority holds it, for a caller that found it carrying
   * events by reading it (outbox-release.ts: releaseCommitted).
   */
  releaseCommitted(
    carrier: Carrier,
    seen: CarriedEvents,
    scope: EffectScope | null,
  ): Promise<void> {
    return releaseCommitted(this.releasing, carrier, seen, scope);
  }

  /** A replayed request waits for the events its first call caused (outbox-release.ts: follow). */
  follow(ids: readonly string[] | undefined, scope: EffectScope | null): Promise<void> {
    return follow(this.releasing, ids, scope);
  }

  /**
   * Another completion of writers that stopped half-way, run by the relay's poll after
   * `releaseStranded` (e.g. cards: issue claims whose card was not stored). It answers how many
   * it completed; it is given the age from which work counts as stranded.
   */
  onSweep(name: string, sweep: Sweep): void {
    this.sweeps.set(name, sweep);
  }

  /** The registered sweeps, each run: by name, how many it completed (outbox-sweeps.ts). */
  runSweeps(): Promise<Map<string, number>> {
    return runSweeps(this.sweeps, this.strandedAfterMs);
  }

  /** Releases events whose writer stopped between its write and their release (outbox-sweeps.ts). */
  releaseStranded(olderThanMs: number): Promise<number> {
    const carriers = [...this.carriers.values()].map((registered) => registered.collection);
    return releaseStranded(this.releasing, this.clock, carriers, olderThanMs);
  }

  private committed(docs: OutboxDocument[], scope: EffectScope | null): void {
    const tracked = this.listener?.(docs, scope !== null) ?? [];
    scope?.deliveries.push(...tracked);
  }

  /** The event an outbox document sends (outbox-document.ts: toHubEvent). */
  static toHubEvent(doc: OutboxDocument): HubEvent {
    return toHubEvent(doc);
  }
}
