import type { ClientSession, Collection, Document } from "mongodb";
import { insertMissing } from "../mongo/insert-missing.js";
import { beside, onCommit } from "../mongo/transactions.js";
import type { EffectScope } from "./effects.js";
import {
  STRANDED,
  type CarriedEvents,
  type Carrier,
  type CarryingDocument,
  type DocumentAddress,
  type OutboxDocument,
} from "./outbox-document.js";

/** The relay's reads of what a writer left: only what a majority holds (see releaseCommitted). */
export const MAJORITY = { readConcern: { level: "majority" as const } };

/** What moving carried events to the outbox collection needs of the outbox (Outbox). */
export interface ReleaseTarget {
  readonly events: Collection<OutboxDocument>;
  /** How old carried events must be before the relay's sweep releases them (Outbox). */
  readonly strandedAfterMs: number;
  /** How a carrier's documents are addressed in writes (Outbox.carriedIn). */
  addressOf(carrier: Carrier): DocumentAddress;
  /** Tells the relay of events now in the outbox collection, and `scope` of their deliveries. */
  committed(docs: OutboxDocument[], scope: EffectScope | null): void;
}

/**
 * After the carrying write: moves every event the document carries (its writer's and any an
 * earlier writer left) to the outbox collection, each id once, and clears them unless the
 * document changed since (`doc.version` is the one just written; a later writer carried these
 * events along and releases them itself). `scope` learns of their deliveries.
 */
export async function release(
  outbox: ReleaseTarget,
  carrier: Carrier,
  doc: CarryingDocument,
  scope: EffectScope | null,
  /** When the writer wrote `doc` (performance.now()); absent for a sweep or a replay. */
  writtenAt?: number,
): Promise<void> {
  const docs = [...(doc.outgoing ?? [])];
  if (docs.length === 0) return;
  const address = outbox.addressOf(carrier)(doc);
  // A writer that stopped for long may find its events released by the sweep, delivered and
  // gone from the outbox: inserting them again would deliver them twice. Only such a writer
  // pays the read; receivers still absorb the duplicate a narrower race can make.
  if (writtenAt !== undefined && performance.now() - writtenAt > outbox.strandedAfterMs / 2) {
    const still = await carrier.countDocuments(
      { ...address, version: doc.version, ...STRANDED },
      { limit: 1 },
    );
    if (still === 0)
      return follow(
        outbox,
        docs.map((d) => d._id),
        scope,
      );
  }
  // Released twice (a stranded sweep racing the writer): the second finds them stored. One turn
  // for both writes: the outbox and the carrier may be written by transactions too.
  await beside(outbox.events.db, async () => {
    await insertMissing(outbox.events, docs);
    await carrier.updateOne(
      { ...address, version: doc.version },
      { $set: { outgoing: [], outgoingSince: null } },
    );
  });
  outbox.committed(docs, scope);
}

/**
 * Inside a transaction that rewrites a carrying document: its carried events go to the outbox
 * in the same transaction (the caller sets `outgoing: []` and `outgoingSince: null` in its
 * write), those already stored left alone (an insert of a stored id would abort it).
 */
export async function releaseCarriedIn(
  outbox: ReleaseTarget,
  session: ClientSession,
  carried: readonly OutboxDocument[] | undefined,
  scope: EffectScope | null,
): Promise<void> {
  if (!carried?.length) return;
  const ids = carried.map((doc) => doc._id);
  const stored = new Set(
    (await outbox.events.find({ _id: { $in: ids } }, { session }).toArray()).map((d) => d._id),
  );
  const missing = carried.filter((doc) => !stored.has(doc._id));
  if (missing.length > 0) await outbox.events.insertMany(missing, { session });
  onCommit(session, () => outbox.committed([...carried], scope));
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
export async function releaseCommitted(
  outbox: ReleaseTarget,
  carrier: Carrier,
  seen: CarriedEvents,
  scope: EffectScope | null,
): Promise<void> {
  const address = outbox.addressOf(carrier)(seen as Document);
  const committed = (await carrier.findOne(address, MAJORITY)) as CarryingDocument | null;
  const released = new Set((committed?.outgoing ?? []).map((event) => event._id));
  if (committed && released.size > 0) await release(outbox, carrier, committed, scope);
  const others = (seen.outgoing ?? []).map((event) => event._id).filter((id) => !released.has(id));
  await follow(outbox, others, scope);
}

/**
 * A replayed request waits for the events its first call caused, as the first call did: those
 * still in the outbox are tracked (and their lanes woken); delivered ones are gone.
 */
export async function follow(
  outbox: ReleaseTarget,
  ids: readonly string[] | undefined,
  scope: EffectScope | null,
): Promise<void> {
  if (!ids || ids.length === 0) return;
  const pending = await outbox.events.find({ _id: { $in: [...ids] } }).toArray();
  if (pending.length > 0) outbox.committed(pending, scope);
}
