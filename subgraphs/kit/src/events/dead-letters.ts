import type { Collection, Db } from "mongodb";
import { DatabaseClock } from "../mongo/database-clock.js";
import { insertMissing } from "../mongo/insert-missing.js";
import { beside } from "../mongo/transactions.js";
import type { OutboxDocument } from "./outbox-document.js";

/** An event its receiver failed to apply `attempts` times: set aside with its last error. */
export interface DeadLetter extends OutboxDocument {
  deadAt: Date;
}

/**
 * Events set aside so their lane moves on (one bad event no longer stops every later one for
 * its receiver). Kept in the sending subgraph's database, beside its outbox, until an operator
 * redelivers them (`npm run events -- redeliver <id>`) once the cause is fixed.
 */
export class DeadLetters {
  readonly collection: Collection<DeadLetter>;

  constructor(
    db: Db,
    private readonly outbox: Collection<OutboxDocument>,
    /** The outbox's clock: a redelivered event goes to the end of its lane in that time. */
    private readonly clock: DatabaseClock = DatabaseClock.of(db),
  ) {
    this.collection = db.collection<DeadLetter>("dead_letters");
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ deadAt: 1 }, { name: "dead_at" });
  }

  /** Moves an event from the outbox here (stored first: a crash in between loses nothing). */
  async bury(doc: OutboxDocument, error: string): Promise<void> {
    await insertMissing(this.collection, [{ ...doc, lastError: error, deadAt: new Date() }]);
    // The outbox is written by transactions too (dead letters are not).
    await beside(this.outbox.db, () => this.outbox.deleteOne({ _id: doc._id }));
  }

  async list(limit = 100): Promise<DeadLetter[]> {
    return this.collection.find({}).sort({ deadAt: 1 }).limit(limit).toArray();
  }

  count(): Promise<number> {
    return this.collection.countDocuments({});
  }

  /**
   * Puts dead letters back at the end of their lanes with their attempts reset: the one with this
   * outbox id (`event:destination`), or every destination's of this event id. Answers how many.
   */
  async redeliver(id: string): Promise<number> {
    await this.clock.calibrate();
    const letters = await this.collection.find({ $or: [{ _id: id }, { eventId: id }] }).toArray();
    for (const letter of letters) {
      const { deadAt: _deadAt, ...event } = letter;
      // After the newest event of its lane, not only at this clock's time: another replica's
      // stamps may run a little ahead of it (a write stamps after its document's last stamp).
      const last = await this.outbox
        .find({ destination: event.destination })
        .sort({ enqueuedAt: -1 })
        .limit(1)
        .next();
      const enqueuedAt = new Date(
        Math.max(this.clock.nowMs(), (last?.enqueuedAt.getTime() ?? 0) + 1),
      );
      await beside(this.outbox.db, () =>
        insertMissing(this.outbox, [{ ...event, attempts: 0, lastError: null, enqueuedAt }]),
      );
      await this.collection.deleteOne({ _id: letter._id });
    }
    return letters.length;
  }
}
