import type { ClientSession, Collection, Db } from "mongodb";
import { isDuplicateKeyError } from "../mongo/connect.js";
import { beside } from "../mongo/transactions.js";

export interface KnownId {
  _id: string;
  /** When the owning subgraph announced it (the event's time). */
  at: Date;
}

/**
 * Ids another subgraph owns and has announced by event (a person registered, a card issued),
 * kept in this subgraph's own database: checking that an id exists never reads another
 * subgraph's database, and never calls it.
 */
export class KnownIds {
  readonly collection: Collection<KnownId>;

  constructor(db: Db, collectionName: string) {
    this.collection = db.collection<KnownId>(collectionName);
  }

  /**
   * Creates the collection at start-up: it is written inside transactions, and a collection may
   * not be created implicitly there (not at all in a cross-shard transaction).
   */
  async ensureCollection(): Promise<void> {
    await this.collection.createIndex({ _id: 1 });
  }

  async has(id: string, session?: ClientSession): Promise<boolean> {
    return (await this.collection.countDocuments({ _id: id }, { session, limit: 1 })) > 0;
  }

  /**
   * Idempotent: a replayed event leaves one record, and fields other writers keep on the record
   * (e.g. a lock mirrored before the registration arrived) stay. Two upserts of a missing record
   * at once may meet at its `_id` (the embedded server reports that even when a plain update
   * would apply): the loser updates the record the winner created.
   */
  async add(id: string, at: Date): Promise<void> {
    const register = (upsert: boolean) =>
      beside(this.collection.db, () =>
        this.collection.updateOne({ _id: id }, { $set: { at } }, { upsert }),
      );
    try {
      await register(true);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await register(false);
    }
  }

  /**
   * Seeding: adds the ids not known yet, all at `at`, leaving known ones as they are. Upserts in
   * one bulk write rather than `insertMissing`: the embedded server stops an unordered insert at
   * its first duplicate key, so ids after a known one would be left out.
   */
  async addMissing(ids: Iterable<string>, at: Date): Promise<void> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return;
    await this.collection.bulkWrite(
      unique.map((id) => ({
        updateOne: { filter: { _id: id }, update: { $setOnInsert: { at } }, upsert: true },
      })),
      { ordered: false },
    );
  }
}
