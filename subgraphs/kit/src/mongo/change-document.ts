import type { Collection, Document, Filter, OptionalUnlessRequiredId } from "mongodb";
import { HubError } from "../errors.js";
import type { EffectScope } from "../events/effects.js";
import type { CarriedEvents, NewEvent, Outbox, OutboxDocument } from "../events/outbox.js";
import { isDuplicateKeyError } from "./connect.js";
import { recordFor, withKeyRecord, type DocumentKey, type KeyRecord } from "./document-keys.js";
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
  events?: { event: NewEvent; destinations: readonly string[] }[];
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
  now: Date;
  notFound: () => Error;
  decide: (doc: D) => Promise<Decision<R>> | Decision<R>;
}): Promise<R> {
  const { collection, outbox } = options;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const doc = (await collection.findOne(options.filter)) as D | null;
    if (!doc) throw options.notFound();
    const earlier = recordFor(doc.keys, options.key);
    if (earlier) return replayed<R, D>(outbox, collection, doc, earlier, options.effects);
    const decision = await options.decide(doc);
    if (!decision.set) return decision.result;
    const outgoing: OutboxDocument[] = (decision.events ?? []).flatMap(({ event, destinations }) =>
      outbox.prepare(event, destinations),
    );
    const version = doc.version + 1;
    const updated = await beside(collection.db, () =>
      collection.updateOne(
        { _id: doc._id, version: doc.version } as Filter<D>,
        {
          $set: {
            ...decision.set,
            keys: withKeyRecord(doc.keys, options.key, decision.result, options.now, outgoing),
            ...outbox.carry(doc, outgoing),
            version,
          },
        } as Document,
      ),
    );
    if (updated.matchedCount === 0) continue;
    await outbox.release(asCarrier(collection), doc._id, version, outgoing, options.effects);
    return decision.result;
  }
  throw new HubError(
    "CONFLICT",
    "The record kept changing under concurrent requests; read it again and retry.",
  );
}

/** The unique (sparse) index on `createdWithKey` a collection needs for `insertNewDocument`. */
export const CREATED_WITH_KEY_INDEX = "created_with_key";

/** A new document, with the idempotency record of the request that created it. */
export interface CreatedDocument extends CarriedEvents {
  _id: unknown;
  version: number;
  /** `channel:operation:key` of the creating request; absent when it came without a key. */
  createdWithKey?: string;
  createdWith?: KeyRecord;
}

/**
 * The write path of a command that creates one document: one insert carrying its events and the
 * creating request's idempotency record (unique on `createdWithKey`), then the events released.
 * A replay (found by its key, before or on the duplicate key) answers the recorded result.
 * Any other duplicate key is the caller's to explain (e.g. a second registration).
 */
export async function insertNewDocument<
  D extends CreatedDocument,
  R extends Record<string, unknown>,
>(options: {
  collection: Collection<D>;
  outbox: Outbox;
  /** The request's effect scope (null when nobody waits for the events). */
  effects: EffectScope | null;
  document: Omit<D, keyof CreatedDocument> & { _id: D["_id"] };
  key: DocumentKey | null;
  now: Date;
  result: R;
  events: { event: NewEvent; destinations: readonly string[] }[];
}): Promise<R> {
  const { collection, outbox, key } = options;
  const recorded = async (): Promise<R | null> => {
    if (!key) return null;
    const earlier = (await collection.findOne({ createdWithKey: key.id } as Filter<D>)) as D | null;
    const record = recordFor(earlier?.createdWith ? [earlier.createdWith] : [], key);
    if (!earlier || !record) return null;
    return replayed<R, D>(outbox, collection, earlier, record, options.effects);
  };
  const earlier = await recorded();
  if (earlier) return earlier;
  const outgoing = options.events.flatMap(({ event, destinations }) =>
    outbox.prepare(event, destinations),
  );
  const document = {
    ...options.document,
    version: 1,
    ...(key
      ? {
          createdWithKey: key.id,
          createdWith: withKeyRecord([], key, options.result, options.now, outgoing)[0],
        }
      : {}),
    ...outbox.carry({}, outgoing),
  };
  try {
    await beside(collection.db, () =>
      collection.insertOne(document as unknown as OptionalUnlessRequiredId<D>),
    );
  } catch (error) {
    // The same key sent twice at once: the first insert won (whichever unique index noticed),
    // this one answers its result.
    if (key && isDuplicateKeyError(error)) {
      const winner = await recorded();
      if (winner) return winner;
    }
    throw error;
  }
  await outbox.release(asCarrier(collection), document._id, 1, outgoing, options.effects);
  return options.result;
}

/**
 * A replay answers as the first call did, once that call's effects (maybe still on their way)
 * are in: events its document still carries are released, those in the outbox waited for.
 */
async function replayed<R, D extends Document>(
  outbox: Outbox,
  collection: Collection<D>,
  doc: CarriedEvents & { _id: unknown; version: number },
  record: KeyRecord,
  effects: EffectScope | null,
): Promise<R> {
  if (doc.outgoing?.length)
    await outbox.release(asCarrier(collection), doc._id, doc.version, doc.outgoing, effects);
  await outbox.follow(record.events, effects);
  return record.result as R;
}

function asCarrier<D extends Document>(collection: Collection<D>): Collection<Document> {
  return collection as unknown as Collection<Document>;
}
