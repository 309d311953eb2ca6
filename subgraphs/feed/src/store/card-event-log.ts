import { beside, insertMissing, needsSerialTransactions, runTransaction } from "@hub/kit";
import type { Collection, Db, Filter } from "mongodb";
import type { CardEventType } from "../rules/card-event-types.js";
import type { CardEventDocument, CounterDocument } from "./card-event-document.js";

const COUNTER_ID = "card_events";

/** Which entries a reader wants: one person's, some types', or all. */
export interface LogFilter {
  personId?: string | null;
  types?: readonly CardEventType[] | null;
}

/** An entry before the log numbers it. */
export type NewLogEntry = Omit<CardEventDocument, "seq">;

/**
 * The append-only log of card events. An append increments the counter and inserts the entry in
 * one transaction (retried on write conflicts), so two feed replicas appending at once commit in
 * the order of their numbers: once an entry is visible, every entry numbered before it is too,
 * and a reader that has read up to N never meets a later commit numbered below N.
 */
export class CardEventLog {
  readonly entries: Collection<CardEventDocument>;
  readonly counter: Collection<CounterDocument>;

  constructor(readonly db: Db) {
    // Readers see only what a majority holds: an entry a failover rolls back (its number then
    // given to another event) is never read, so no reader skips past a number or sees one twice.
    const majority = { readConcern: { level: "majority" as const } };
    this.entries = db.collection<CardEventDocument>("card_events", majority);
    this.counter = db.collection<CounterDocument>("card_event_counter", majority);
  }

  /** Indexes and the counter, created at start-up: nothing may be created inside a transaction. */
  async ensureIndexes(): Promise<void> {
    await this.entries.createIndex({ seq: 1 }, { unique: true, name: "by_seq" });
    await this.entries.createIndex({ personId: 1, seq: 1 }, { name: "by_person" });
    await this.entries.createIndex({ recordedAt: 1 }, { name: "retention" });
    await this.counter.createIndex({ _id: 1 });
    await beside(this.db, () => insertMissing(this.counter, [{ _id: COUNTER_ID, seq: 0 }]));
  }

  /** Records `entry` once: the stored entry, and whether this call stored it (false: a duplicate). */
  async append(entry: NewLogEntry): Promise<{ stored: CardEventDocument; added: boolean }> {
    // The embedded server runs this database's transactions one at a time anyway (the kit's
    // turn, across processes too), and writes a transaction's collections back whole at commit:
    // a log of thousands of entries made each append cost hundreds of milliseconds. Within the
    // same turn, the two writes need no transaction to commit in number order; a crash between
    // them leaves a number unused, which readers skip like any other.
    if (await needsSerialTransactions(this.db.client))
      return beside(this.db, () => this.appendInTurn(entry));
    return runTransaction(this.db, async (session) => {
      // Looked up, not caught as a duplicate key: a failed write aborts a replica set's transaction.
      const earlier = await this.entries.findOne({ _id: entry._id }, { session });
      if (earlier) return { stored: earlier, added: false };
      const counted = await this.counter.findOneAndUpdate(
        { _id: COUNTER_ID },
        { $inc: { seq: 1 } },
        { returnDocument: "after", upsert: true, session },
      );
      if (!counted) throw new Error("the log's counter could not be incremented");
      const stored: CardEventDocument = { ...entry, seq: counted.seq };
      await this.entries.insertOne(stored, { session });
      return { stored, added: true };
    });
  }

  private async appendInTurn(
    entry: NewLogEntry,
  ): Promise<{ stored: CardEventDocument; added: boolean }> {
    const earlier = await this.entries.findOne({ _id: entry._id });
    if (earlier) return { stored: earlier, added: false };
    const counted = await this.counter.findOneAndUpdate(
      { _id: COUNTER_ID },
      { $inc: { seq: 1 } },
      { returnDocument: "after", upsert: true },
    );
    if (!counted) throw new Error("the log's counter could not be incremented");
    const stored: CardEventDocument = { ...entry, seq: counted.seq };
    await this.entries.insertOne(stored);
    return { stored, added: true };
  }

  /** Entries after `afterSeq` (and at most `throughSeq`) that match `filter`, in log order. */
  async read(
    afterSeq: number,
    filter: LogFilter,
    limit: number,
    throughSeq?: number,
  ): Promise<CardEventDocument[]> {
    const query: Filter<CardEventDocument> = {
      seq: throughSeq === undefined ? { $gt: afterSeq } : { $gt: afterSeq, $lte: throughSeq },
    };
    if (filter.personId) query.personId = filter.personId;
    if (filter.types?.length) query.type = { $in: [...filter.types] };
    return this.entries.find(query).sort({ seq: 1 }).limit(limit).toArray();
  }

  /**
   * The newest entry's number (0 for an empty log): every entry up to it is committed (see the
   * class), so a reader may count everything through it as read once it has read it.
   */
  async newestSeq(): Promise<number> {
    const newest = await this.entries.find({}).sort({ seq: -1 }).limit(1).next();
    return newest?.seq ?? 0;
  }

  /** The oldest entry's number, or null for an empty log. */
  async oldestSeq(): Promise<number | null> {
    const oldest = await this.entries.find({}).sort({ seq: 1 }).limit(1).next();
    return oldest?.seq ?? null;
  }

  /** The highest number ever given out (entries pruned since included). */
  async lastNumber(): Promise<number> {
    return (await this.counter.findOne({ _id: COUNTER_ID }))?.seq ?? 0;
  }

  /**
   * Removes the entries up to the newest one recorded before `before`: always a prefix of the
   * log (replicas' clocks may record a later number a little earlier), so a cursor is either
   * still whole after it or older than the oldest entry (CURSOR_EXPIRED). Answers how many.
   */
  async prune(before: Date): Promise<number> {
    const last = await this.entries
      .find({ recordedAt: { $lt: before } })
      .sort({ seq: -1 })
      .limit(1)
      .next();
    if (!last) return 0;
    // Beside the appending transactions, which write this collection.
    const { deletedCount } = await beside(this.db, () =>
      this.entries.deleteMany({ seq: { $lte: last.seq } }),
    );
    return deletedCount;
  }

  async ping(): Promise<boolean> {
    await this.entries.countDocuments({}, { limit: 1 });
    return true;
  }
}
