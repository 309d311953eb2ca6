import { beside, needsSerialTransactions, runTransaction, untilMajorityShows } from "@hub/kit";
import type { ClientSession, Collection, Db, Filter } from "mongodb";
import type { CardEventDocument, CounterDocument } from "./card-event-document.js";
import { COUNTER_ID, type AppendResult, type LogFilter, type NewLogEntry } from "./log-layout.js";
import { appendOnce } from "./log-append.js";
import { matches } from "./log-tail.js";

/** Reads of a page that waits for its proof entry (25 ms to 1.6 s apart: ~3 s in all). */
const PROOF_READS = 8;

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
      return beside(this.db, () => this.appendOnce(entry));
    return runTransaction(this.db, (session) => this.appendOnce(entry, session));
  }

  /** The entry stored for its id, or numbered and inserted (in `session`, if given). */
  private appendOnce(entry: NewLogEntry, session?: ClientSession): Promise<AppendResult> {
    const inSession = session ? { session } : {};
    return appendOnce(
      this.counter,
      {
        // Looked up, not caught as a duplicate key: a failed write aborts a replica set's
        // transaction.
        earlier: (id) => this.entries.findOne({ _id: id }, inSession),
        write: (stored) => this.entries.insertOne(stored, inSession),
      },
      entry,
      session,
    );
  }

  /**
   * Entries after `afterSeq` matching `filter`. With `throughSeq` (a number the reader knows is
   * committed, and will count as read once a short page comes back), the page is answered only
   * once the database shows that entry too: after an election the new primary's majority
   * snapshot can lag what the old one acknowledged until it commits in its own term, and a short
   * page from it would make the reader skip entries it has not seen. The entry numbered
   * `throughSeq` is asked for in the same query, so the page and the proof come from one read.
   */
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
    if (throughSeq === undefined)
      return this.entries.find(query).sort({ seq: 1 }).limit(limit).toArray();
    if (throughSeq <= afterSeq) return [];
    const withProof: Filter<CardEventDocument> = { $or: [query, { seq: throughSeq }] };
    return untilMajorityShows(
      async () => {
        const docs = await this.entries
          .find(withProof)
          .sort({ seq: 1 })
          .limit(limit + 1)
          .toArray();
        const page = docs.filter((doc) => doc.seq !== throughSeq || matches(filter, doc));
        const shown = docs.some((doc) => doc.seq === throughSeq);
        // A full page is not counted past (the reader reads on from its last entry); an entry
        // pruned since is not waited for, by the pruning's mark (an empty snapshot may be a
        // lagging one, not a pruned log).
        return shown || page.length >= limit || (await this.prunedThrough()) >= throughSeq
          ? page.slice(0, limit)
          : null;
      },
      `The feed's log does not show entry ${throughSeq} yet (a failover?); resume with the last cursor.`,
      { reads: PROOF_READS },
    );
  }

  /** The pruning's mark (CounterDocument.pruned), as a majority holds it. */
  private async prunedThrough(): Promise<number> {
    return (await this.counter.findOne({ _id: COUNTER_ID }))?.pruned ?? 0;
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
    // Marked first: a reader whose read met the deletion half done finds the mark after it
    // (CardEventLog.readAfterCursor) and answers CURSOR_EXPIRED rather than a hole.
    await beside(this.db, () =>
      this.counter.updateOne(
        { _id: COUNTER_ID, $or: [{ pruned: { $exists: false } }, { pruned: { $lt: last.seq } }] },
        { $set: { pruned: last.seq } },
      ),
    );
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
