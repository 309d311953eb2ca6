import type { Collection, Document, Filter } from "mongodb";
import { HubError } from "../errors.js";
import type { NewEvent, Outbox, OutboxDocument } from "../events/outbox.js";
import type { CarriedEvents } from "../events/outbox.js";
import {
  replayFromDocument,
  withKeyRecord,
  type DocumentKey,
  type KeyRecord,
} from "./document-keys.js";
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
const ATTEMPTS = 5;

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
  filter: Filter<D>;
  key: DocumentKey | null;
  now: Date;
  notFound: () => Error;
  decide: (doc: D) => Promise<Decision<R>> | Decision<R>;
}): Promise<R> {
  const { collection, outbox } = options;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const doc = (await collection.findOne(options.filter)) as D | null;
    if (!doc) throw options.notFound();
    const earlier = replayFromDocument<R>(doc.keys, options.key);
    if (earlier) return earlier;
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
            keys: withKeyRecord(doc.keys, options.key, decision.result, options.now),
            ...outbox.carry(doc, outgoing),
            version,
          },
        } as Document,
      ),
    );
    if (updated.matchedCount === 0) continue;
    await outbox.release(collection as unknown as Collection<Document>, doc._id, version, outgoing);
    return decision.result;
  }
  throw new HubError(
    "CONFLICT",
    "The record kept changing under concurrent requests; read it again and retry.",
  );
}
