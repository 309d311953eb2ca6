import { beside } from "@hub/kit";
import type { Collection, Db } from "mongodb";
import type { CardEventDocument, CounterDocument } from "./card-event-document.js";
import { COUNTER_ID, type AppendResult, type LogFilter, type NewLogEntry } from "./log-layout.js";
import { appendOnce } from "./log-append.js";
import { matches } from "./log-tail.js";

/**
 * Entries per bucket document. Small enough that a bucket (~20 KB) is cheap to copy on each
 * append and to read on each poll of the tail, large enough that the collection holds 64 times
 * fewer documents than the log has entries.
 */
export const BUCKET_ENTRIES = 64;

/** Buckets read per query when a read walks the log: bounds what the server copies per query. */
const BUCKETS_PER_READ = 16;

/**
 * Entries numbered `k·BUCKET_ENTRIES + 1` to `(k+1)·BUCKET_ENTRIES`, in one document
 * (`card_event_buckets`, `_id` k). Maps rather than arrays: the embedded server has no `$push`,
 * and `$set` of one key appends without reading the bucket first.
 */
export interface LogBucketDocument {
  _id: number;
  /** By number (as a string key). */
  entries: Record<string, CardEventDocument>;
  /** Event id (escaped: see `idKey`) → its number: how a delivery found again is recognised. */
  ids: Record<string, number>;
}

/** The counter, with how far the retention pruned (the bucket layout keeps it there). */
interface BucketCounterDocument extends CounterDocument {
  /** Every entry numbered up to here was pruned. */
  pruned?: number;
}

export const bucketOf = (seq: number): number => Math.floor((seq - 1) / BUCKET_ENTRIES);

/** An event id as a field name: no `.` (a path) or leading `$` (an operator) reaches the server. */
export function idKey(id: string): string {
  return id.replace(/[%.$]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const bySeq = (a: CardEventDocument, b: CardEventDocument) => a.seq - b.seq;

/**
 * The log on the embedded server (jongodb), whose every insert or update checks each unique
 * index against every document of the collection pairwise: a write costs the square of the
 * collection's documents (measured on the server's own CPU: 1.2 ms per append at 250 entries,
 * 12.6 at 1,000, 45.6 at 2,000 with `seq` unique; 22.4 without). One document per entry made the
 * feed fall behind 50 changes a second within a minute. Here an append sets two keys of its
 * bucket, whose collection holds a 64th of the documents: 0.2–0.4 ms of server CPU at any of those
 * sizes.
 *
 * What the log promises holds as with one document per entry: appends run inside the kit's turn
 * (one at a time per database, across processes where several share the embedded server), which
 * numbers and writes each entry before the next is numbered, so commit order is number order; a
 * crash between the two leaves a number unused. Reads that must see everything up to a number
 * take the same turn (`newestSeq`). The server copies every document a query matches before it
 * sorts or limits, so reads ask for ranges of bucket numbers, never for "the first" or "the last".
 */
export class BucketLog {
  private readonly buckets: Collection<LogBucketDocument>;
  private readonly counter: Collection<BucketCounterDocument>;

  constructor(
    private readonly db: Db,
    /** Buckets per query of a read (tests make it 1 to walk the pruned start of a short log). */
    private readonly range = BUCKETS_PER_READ,
  ) {
    const majority = { readConcern: { level: "majority" as const } };
    this.buckets = db.collection<LogBucketDocument>("card_event_buckets", majority);
    this.counter = db.collection<BucketCounterDocument>("card_event_counter", majority);
  }

  async ensureIndexes(): Promise<void> {
    // The bucket number is the `_id`: no other index (each would be checked on every write).
    await this.buckets.createIndex({ _id: 1 });
  }

  append(entry: NewLogEntry): Promise<AppendResult> {
    const key = idKey(entry._id);
    return beside(this.db, () =>
      appendOnce(
        this.counter,
        {
          earlier: async () => {
            const earlier = await this.buckets.findOne({ [`ids.${key}`]: { $exists: true } });
            const earlierSeq = earlier?.ids[key];
            return earlierSeq === undefined ? undefined : earlier?.entries[String(earlierSeq)];
          },
          write: (stored) =>
            this.buckets.updateOne(
              { _id: bucketOf(stored.seq) },
              { $set: { [`entries.${stored.seq}`]: stored, [`ids.${key}`]: stored.seq } },
              { upsert: true },
            ),
        },
        entry,
      ),
    );
  }

  /**
   * Walks buckets from the one holding `afterSeq + 1`, a range of them per query. A range that
   * ends before its last bucket is the end of the log (buckets are written in order, and a whole
   * bucket of unused numbers would take 64 crashes); an empty one is either past the end or the
   * pruned start of the log, which the counter tells apart. A read near the head is one query.
   */
  async read(
    afterSeq: number,
    filter: LogFilter,
    limit: number,
    throughSeq?: number,
  ): Promise<CardEventDocument[]> {
    const upper = throughSeq ?? Number.POSITIVE_INFINITY;
    const last = throughSeq === undefined ? Number.POSITIVE_INFINITY : bucketOf(throughSeq);
    const found: CardEventDocument[] = [];
    let k = bucketOf(afterSeq + 1);
    while (k <= last && found.length < limit) {
      const to = Math.min(k + this.range, last + 1);
      const docs = await this.buckets.find({ _id: { $gte: k, $lt: to } }).toArray();
      if (docs.length === 0) {
        const counter = await this.counter.findOne({ _id: COUNTER_ID });
        const kept = bucketOf((counter?.pruned ?? 0) + 1);
        if (kept >= to && kept <= bucketOf(counter?.seq ?? 0)) {
          k = kept;
          continue;
        }
        break;
      }
      const entries = docs.flatMap((doc) => Object.values(doc.entries)).sort(bySeq);
      for (const entry of entries)
        if (entry.seq > afterSeq && entry.seq <= upper && matches(filter, entry)) found.push(entry);
      if (Math.max(...docs.map((doc) => doc._id)) < to - 1) break;
      k = to;
    }
    return found.slice(0, limit);
  }

  /**
   * The counter, read inside the turn: no append is between numbering and writing its entry
   * then, so every entry numbered up to it is written (or its number unused after a crash).
   */
  newestSeq(): Promise<number> {
    return beside(this.db, () => this.lastNumber());
  }

  /** The first number after the pruned ones, or null when nothing is left (or ever was). */
  async oldestSeq(): Promise<number | null> {
    const counter = await this.counter.findOne({ _id: COUNTER_ID });
    const last = counter?.seq ?? 0;
    const pruned = counter?.pruned ?? 0;
    return pruned >= last ? null : pruned + 1;
  }

  private async lastNumber(): Promise<number> {
    return (await this.counter.findOne({ _id: COUNTER_ID }))?.seq ?? 0;
  }

  /**
   * Removes the entries up to the newest one recorded before `before` (a prefix, as with one
   * document per entry): whole buckets deleted, the one cut through rewritten without them. In
   * the turn, so no append writes the bucket being rewritten.
   */
  prune(before: Date): Promise<number> {
    return beside(this.db, async () => {
      const counter = await this.counter.findOne({ _id: COUNTER_ID });
      const pruned = counter?.pruned ?? 0;
      // Once a minute: every bucket after the pruned ones is read (replicas' clocks may record a
      // later number a little earlier, so the newest entry before the cut may be in any).
      const docs = await this.buckets.find({ _id: { $gte: bucketOf(pruned + 1) } }).toArray();
      let cut = pruned;
      let removed = 0;
      for (const doc of docs)
        for (const entry of Object.values(doc.entries))
          if (entry.recordedAt < before && entry.seq > cut) cut = entry.seq;
      if (cut === pruned) return 0;
      // Marked first: a reader whose read met the rewrite half done finds the mark after it
      // (CardEventLog.readAfterCursor) and answers CURSOR_EXPIRED rather than a hole.
      // Never lowered: two pruners (replicas) interleaving must not move it back over a hole.
      await this.counter.updateOne(
        { _id: COUNTER_ID, $or: [{ pruned: { $exists: false } }, { pruned: { $lt: cut } }] },
        { $set: { pruned: cut } },
      );
      for (const doc of docs) {
        const kept = Object.values(doc.entries).filter((entry) => entry.seq > cut);
        removed += Object.keys(doc.entries).length - kept.length;
        if (kept.length === Object.keys(doc.entries).length) continue;
        if (kept.length === 0 && (doc._id + 1) * BUCKET_ENTRIES <= cut)
          await this.buckets.deleteOne({ _id: doc._id });
        else
          await this.buckets.replaceOne(
            { _id: doc._id },
            {
              entries: Object.fromEntries(kept.map((entry) => [String(entry.seq), entry])),
              ids: Object.fromEntries(kept.map((entry) => [idKey(entry._id), entry.seq])),
            },
          );
      }
      return removed;
    });
  }

  async ping(): Promise<boolean> {
    await this.counter.countDocuments({}, { limit: 1 });
    return true;
  }
}
