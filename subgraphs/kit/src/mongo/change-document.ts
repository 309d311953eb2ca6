import type { Collection, Document, Filter, OptionalUnlessRequiredId } from "mongodb";
import { HubError } from "../errors.js";
import type { EffectScope } from "../events/effects.js";
import { faultPoint } from "../events/fault-points.js";
import type { CarriedEvents, OutboxDocument } from "../events/outbox-document.js";
import type { NewEvent, Outbox } from "../events/outbox.js";
import { recordFor, withKeyRecord, type DocumentKey, type KeyRecord } from "./document-keys.js";
import { untilMajorityShows } from "./majority-read.js";
import { beside } from "./transactions.js";

/** A document one command changes: versioned, carrying its events and idempotency records. */
export interface ChangeableDocument extends CarriedEvents {
  _id: unknown;
  version: number;
  keys?: KeyRecord[];
}

/** What a command decided on the document as read: its answer and, if it changes, what to write. */
export interface Decision<R> {
  result: R;
  /** Fields to set; absent when nothing changes (no write, no record). */
  set?: Document;
  /** Events the change causes; the catalogue names their receivers. */
  events?: NewEvent[];
}

/** Lost races retried (each time the document is read again and the rules checked again). */
export const WRITE_ATTEMPTS = 5;

/**
 * The write path of a command that changes one document: read → decide (the rules) → one
 * version-guarded update carrying the change, its events and its idempotency record → release the
 * events to the relay. Atomic without a transaction (a single-document write is atomic in
 * MongoDB), so nothing waits for unrelated documents, and nothing grows per request but the
 * document itself (bounded records). A replay answers the recorded result; a lost race retries.
 */
export async function changeOneDocument<
  D extends ChangeableDocument,
  R extends Record<string, unknown>,
>(options: {
  collection: Collection<D>;
  outbox: Outbox;
  /** The request's effect scope (null when nobody waits for the events). */
  effects: EffectScope | null;
  filter: Filter<D>;
  key: DocumentKey | null;
  notFound: () => Error;
  decide: (doc: D) => Promise<Decision<R>> | Decision<R>;
}): Promise<R> {
  const { collection, outbox } = options;
  // The full shard key the collection was registered with (Outbox.carriedIn): a sharded cluster
  // sends the version-guarded write to one shard.
  const address = outbox.addressOf(asCarrier(collection));
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const doc = (await collection.findOne(options.filter)) as D | null;
    if (!doc) throw options.notFound();
    // A record of this key: a replay, answered from the record as a majority holds it (replayed).
    // A first call decides on this read alone: its version-guarded write builds on it.
    if (options.key && doc.keys?.some((record) => record.id === options.key?.id))
      return replayed<R, D>(outbox, collection, options.filter, options.key, options.effects);
    const decision = await options.decide(doc);
    if (!decision.set) return decision.result;
    // Stamped after every event of the document's earlier writes, whichever replica made them
    // and however its clock compares with this one's: one document's events leave in the order
    // of its versions (`carry` records the last stamp with the change).
    const outgoing: OutboxDocument[] = outbox.prepareAll(
      decision.events ?? [],
      outbox.floorOf(doc),
    );
    const version = doc.version + 1;
    // The events an earlier writer left in the document (it stopped before releasing them) go
    // with this write's own, and are released with them.
    const carried = outbox.carry(doc, outgoing);
    const updated = await beside(collection.db, () =>
      collection.updateOne(
        { ...address(doc), version: doc.version } as Document as Filter<D>,
        {
          $set: {
            ...decision.set,
            // By the database's clock, not the request's or the event's time: the record must
            // last its retention from when it was written, however late an event arrived.
            keys: withKeyRecord(
              doc.keys,
              options.key,
              decision.result,
              outbox.clock.now(),
              outgoing,
            ),
            ...carried,
            version,
          },
        } as Document,
      ),
    );
    if (updated.matchedCount === 0) continue;
    const writtenAt = performance.now();
    await faultPoint("after-carrying-write", { collection: collection.collectionName, version });
    await outbox.release(
      asCarrier(collection),
      { ...doc, version, outgoing: carried.outgoing },
      options.effects,
      writtenAt,
    );
    return decision.result;
  }
  throw new HubError(
    "CONFLICT",
    "The record kept changing under concurrent requests; read it again and retry.",
  );
}

/**
 * The write path of a command or handler that creates one document: one insert carrying its
 * events, then the events released. A duplicate key is the caller's to explain (e.g. an account
 * another delivery opened meanwhile). Idempotent creation by a request's key lives with the
 * creating subgraph (a registration keeps its key beside the person, keyed by `_id`): a unique
 * index on a key field would not be compatible with a collection's shard key.
 */
export async function insertNewDocument<D extends CarriedEvents & { _id: unknown }>(options: {
  collection: Collection<D>;
  outbox: Outbox;
  /** The request's effect scope (null when nobody waits for the events). */
  effects: EffectScope | null;
  document: Omit<D, keyof CarriedEvents | "version">;
  events: NewEvent[];
}): Promise<void> {
  const { collection, outbox } = options;
  const outgoing = outbox.prepareAll(options.events);
  const document = { ...options.document, version: 1, ...outbox.carry({}, outgoing) };
  await beside(collection.db, () =>
    collection.insertOne(document as unknown as OptionalUnlessRequiredId<D>),
  );
  const writtenAt = performance.now();
  await faultPoint("after-carrying-write", { collection: collection.collectionName, version: 1 });
  await outbox.release(asCarrier(collection), document, options.effects, writtenAt);
}

/**
 * A replay answers as the first call did, once that call's effects (maybe still on their way)
 * are in: events its document still carries are released, as a majority holds the document (a
 * write a failover rolls back releases nothing), those in the outbox waited for. The record it
 * answers from (or the CONFLICT of other input) comes from that same majority read: the
 * primary's own data may hold a first call's write that is not replicated yet, and a failover
 * would roll back the change the answer reports. A record a majority does not show after a few
 * reads is being written or rolled back: the caller retries (SERVICE_UNAVAILABLE is retryable).
 */
async function replayed<R, D extends ChangeableDocument>(
  outbox: Outbox,
  collection: Collection<D>,
  filter: Filter<D>,
  key: DocumentKey,
  effects: EffectScope | null,
): Promise<R> {
  const { doc, record } = await untilMajorityShows(async () => {
    const doc = (await collection.findOne(filter, {
      readConcern: { level: "majority" },
    })) as D | null;
    const record = recordFor(doc?.keys, key);
    return doc && record ? { doc, record } : null;
  }, "The first call with this idempotency key is still being written; retry shortly.");
  // Read as a majority holds it already: what it carries is released as releaseCommitted would.
  if (doc.outgoing?.length) await outbox.release(asCarrier(collection), doc, effects);
  await outbox.follow(record.events, effects);
  return record.result as R;
}

function asCarrier<D extends Document>(collection: Collection<D>): Collection<Document> {
  return collection as unknown as Collection<Document>;
}
