import { beside, insertMissing, needsSerialTransactions } from "@hub/kit";
import { expiredCursor } from "../rules/cursor.js";
import type { Collection, Db } from "mongodb";
import type { CardEventDocument, CounterDocument } from "./card-event-document.js";
import { BucketLog } from "./log-buckets.js";
import { EntryLog } from "./log-entries.js";
import { COUNTER_ID, type AppendResult, type LogFilter, type NewLogEntry } from "./log-layout.js";

export type { AppendResult, LogFilter, NewLogEntry } from "./log-layout.js";

/**
 * How the log is stored. `entries`: one document per entry with its indexes (store/log-entries.ts),
 * for a MongoDB replica set. `buckets`: entries in documents of 64 (store/log-buckets.ts), for the
 * embedded server, where a write costs the square of its collection's documents. The default is
 * chosen by the server (the kit recognises the embedded one); tests run both on the embedded one.
 */
export type LogLayout = "entries" | "buckets";

type LayoutStore = EntryLog | BucketLog;

/**
 * The append-only log of card events, numbered by a counter (`card_event_counter`). In either
 * layout an entry is numbered and written before the next one is numbered (a transaction on a
 * replica set, the kit's turn on the embedded server), so commit order is number order: once an
 * entry is visible, every entry numbered before it is too, and a reader that has read up to N
 * never meets a later commit numbered below N. A number left unused (a crash between numbering
 * and writing) is skipped by readers like any other gap.
 */
export class CardEventLog {
  private readonly counter: Collection<CounterDocument>;
  private layoutStore: Promise<LayoutStore> | null = null;

  constructor(
    readonly db: Db,
    private readonly options: { layout?: LogLayout } = {},
  ) {
    this.counter = db.collection<CounterDocument>("card_event_counter", {
      readConcern: { level: "majority" },
    });
  }

  /** Which layout this log uses (decided once, by the server unless the options say). */
  async layout(): Promise<LogLayout> {
    return (await this.store()) instanceof BucketLog ? "buckets" : "entries";
  }

  private store(): Promise<LayoutStore> {
    this.layoutStore ??= (async () => {
      const layout =
        this.options.layout ??
        ((await needsSerialTransactions(this.db.client)) ? "buckets" : "entries");
      return layout === "buckets" ? new BucketLog(this.db) : new EntryLog(this.db);
    })();
    return this.layoutStore;
  }

  /** Indexes and the counter, created at start-up: nothing may be created inside a transaction. */
  async ensureIndexes(): Promise<void> {
    await (await this.store()).ensureIndexes();
    await this.counter.createIndex({ _id: 1 });
    await beside(this.db, () => insertMissing(this.counter, [{ _id: COUNTER_ID, seq: 0 }]));
  }

  /** Records `entry` once: the stored entry, and whether this call stored it (false: a duplicate). */
  async append(entry: NewLogEntry): Promise<AppendResult> {
    return (await this.store()).append(entry);
  }

  /** Entries after `afterSeq` (and at most `throughSeq`) that match `filter`, in log order. */
  async read(
    afterSeq: number,
    filter: LogFilter,
    limit: number,
    throughSeq?: number,
  ): Promise<CardEventDocument[]> {
    return (await this.store()).read(afterSeq, filter, limit, throughSeq);
  }

  /**
   * As `read`, for a reader at a position it holds (a cursor, a stream's place): CURSOR_EXPIRED
   * when the retention has pruned, or is pruning, entries after `afterSeq`, whose read may then
   * have holes. Checked after the read, against the mark the pruning sets before it deletes.
   */
  async readAfterCursor(
    afterSeq: number,
    filter: LogFilter,
    limit: number,
    throughSeq?: number,
  ): Promise<CardEventDocument[]> {
    const entries = await this.read(afterSeq, filter, limit, throughSeq);
    // Position 0 is "from the start", not a cursor: the oldest kept entries are what it wants.
    if (afterSeq > 0 && afterSeq < (await this.prunedThrough())) throw expiredCursor();
    return entries;
  }

  /** The number through which the retention has pruned, or is pruning (0: none). */
  async prunedThrough(): Promise<number> {
    return (await this.counter.findOne({ _id: COUNTER_ID }))?.pruned ?? 0;
  }

  /**
   * The newest entry's number (0 for an empty log): every entry up to it is committed (see the
   * class), so a reader may count everything through it as read once it has read it.
   */
  async newestSeq(): Promise<number> {
    return (await this.store()).newestSeq();
  }

  /**
   * The oldest entry's number, or null for an empty log. In the bucket layout, the first number
   * after the pruned ones (an unused number there reads as the oldest): either way every entry
   * numbered from it on is still kept.
   */
  async oldestSeq(): Promise<number | null> {
    return (await this.store()).oldestSeq();
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
    return (await this.store()).prune(before);
  }

  async ping(): Promise<boolean> {
    return (await this.store()).ping();
  }
}
