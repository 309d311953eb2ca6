import type { Db, Document } from "mongodb";
import type { Logger } from "../logger.js";
import { beside } from "./transactions.js";

/** A collection that only grows unless its old records are removed. */
export interface RetainedCollection {
  /** Any collection: its deleteMany is used, beside transactions on its database. */
  collection: {
    deleteMany(filter: Document): Promise<{ deletedCount: number }>;
    readonly db: Db;
  };
  /** The date field that says how old a record is (indexed). */
  field: string;
  /** How long a record is kept, in milliseconds. */
  keepMs: number;
}

export interface RetentionSweep {
  /** Removes what is past its retention now; answers how many records went. */
  sweep(now?: Date): Promise<number>;
  stop(): void;
}

/**
 * Keeps collections that grow with every write bounded: applied-event ids (the inbox) and
 * idempotency records. A periodic delete of what is older than its retention, the same on the
 * embedded server (which has no TTL indexes) and on MongoDB, so one mechanism is tested on both.
 * Why it matters: on the embedded server every write slows as its collection grows (insert
 * ~0.6 ms empty, 90–100 ms at 4,000 documents; ../shared/EMBEDDED-MONGO.md).
 */
export function startRetentionSweep(
  retained: readonly RetainedCollection[],
  logger: Logger,
  everyMs = 60_000,
): RetentionSweep {
  const sweep = async (now = new Date()): Promise<number> => {
    let removed = 0;
    for (const { collection, field, keepMs } of retained) {
      // Transactions write these collections too (idempotency records, audit events).
      const result = await beside(collection.db, () =>
        collection.deleteMany({ [field]: { $lt: new Date(now.getTime() - keepMs) } }),
      );
      removed += result.deletedCount;
    }
    return removed;
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn({ err: error }, "retention sweep failed"));
  }, everyMs);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
