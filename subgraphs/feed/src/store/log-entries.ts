import { beside, needsSerialTransactions, runTransaction } from "@hub/kit";
import type { Collection, Db, Filter } from "mongodb";
import type { CardEventDocument, CounterDocument } from "./card-event-document.js";
import { COUNTER_ID, type AppendResult, type LogFilter, type NewLogEntry } from "./log-layout.js";

/**
 * The log as one document per entry (`card_events`), indexed by number, by person and by the time
 * recorded: the layout for a MongoDB replica set. An append increments the counter and inserts the
 * entry in one transaction (retried on write conflicts), so two feed replicas appending at once
 * commit in the order of their numbers: once an entry is visible, every entry numbered before it
 * is too, and a reader that has read up to N never meets a later commit numbered below N.
 */
export class EntryLog {
  readonly entries: Collection<CardEventDocument>;
  private readonly counter: Collection<CounterDocument>;

  constructor(private readonly db: Db) {
    // Readers see only what a majority holds: an entry a failover rolls back (its number then
    // given to another event) is never read, so no reader skips past a number or sees one twice.
    const majority = { readConcern: { level: "majority" as const } };
    this.entries = db.collection<CardEventDocument>("card_events", majority);
    this.counter = db.collection<CounterDocument>("card_event_counter", majority);
  }

  async ensureIndexes(): Promise<void> {
    await this.entries.createIndex({ seq: 1 }, { unique: true, name: "by_seq" });
    await this.entries.createIndex({ personId: 1, seq: 1 }, { name: "by_person" });
    await this.entries.createIndex({ recordedAt: 1 }, { name: "retention" });
  }

  async append(entry: NewLogEntry): Promise<AppendResult> {
    // On the embedded server (a test of this layout there) transactions run one at a time anyway
    // and are written back whole at commit: the two writes in the kit's turn need none to commit
    // in number order; a crash between them leaves a number unused, which readers skip.
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

  private async appendInTurn(entry: NewLogEntry): Promise<AppendResult> {
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

  async newestSeq(): Promise<number> {
    const newest = await this.entries.find({}).sort({ seq: -1 }).limit(1).next();
    return newest?.seq ?? 0;
  }

  async oldestSeq(): Promise<number | null> {
    const oldest = await this.entries.find({}).sort({ seq: 1 }).limit(1).next();
    return oldest?.seq ?? null;
  }

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
