import type { Collection, Document, FindOptions, MongoClient } from "mongodb";
import { useTestMongo } from "./test-mongo.js";

/** A find the test MongoDB was sent: its collection, its filter and its read concern's level. */
export interface SentFind {
  collection: unknown;
  filter: Record<string, unknown>;
  /** "local" when the find names no read concern. */
  level: string;
}

/**
 * A test MongoDB for one file (useTestMongo) that records every find it is sent, in order, in
 * `finds`: for tests of what is read as a majority holds it. `outsideTransactions` leaves out
 * the finds inside a transaction (their reads are of the transaction's snapshot).
 */
export function useFindRecorder(options: { outsideTransactions?: boolean } = {}): {
  client: () => MongoClient;
  finds: SentFind[];
  /** The read concern of each find on `collection` (whose filter `about` accepts) from `from`. */
  readConcerns: (
    collection: string,
    from: number,
    about?: (filter: Record<string, unknown>) => boolean,
  ) => string[];
  /** The read concern of each find on `collection` (whose filter `about` accepts) `run` sends. */
  readConcernsDuring: (
    collection: string,
    run: () => Promise<unknown>,
    about?: (filter: Record<string, unknown>) => boolean,
  ) => Promise<string[]>;
} {
  const finds: SentFind[] = [];
  const client = useTestMongo({
    onCommand: (event) => {
      if (event.commandName !== "find") return;
      if (options.outsideTransactions && "autocommit" in event.command) return;
      const readConcern = event.command["readConcern"] as { level?: string } | undefined;
      finds.push({
        collection: event.command["find"],
        filter: (event.command["filter"] ?? {}) as Record<string, unknown>,
        level: readConcern?.level ?? "local",
      });
    },
  });
  const readConcerns = (
    collection: string,
    from: number,
    about: (filter: Record<string, unknown>) => boolean = () => true,
  ) =>
    finds
      .slice(from)
      .filter((find) => find.collection === collection && about(find.filter))
      .map((find) => find.level);
  const readConcernsDuring = async (
    collection: string,
    run: () => Promise<unknown>,
    about?: (filter: Record<string, unknown>) => boolean,
  ) => {
    const from = finds.length;
    await run();
    return readConcerns(collection, from, about);
  };
  return { client, finds, readConcerns, readConcernsDuring };
}

/**
 * The primary holds `collection` as it is now; a read of it with read concern majority finds
 * `shown` (nothing by default: not replicated yet, or rolled back) whenever `when` says so.
 * Answers a function that undoes it.
 */
export function stubMajorityReads<T extends Document>(
  collection: Collection<T>,
  shown: T | null = null,
  when: () => boolean = () => true,
): () => void {
  const findOne = collection.findOne.bind(collection);
  const stub = (filter: never, options?: FindOptions) =>
    when() && (options?.readConcern as { level?: string } | undefined)?.level === "majority"
      ? Promise.resolve(shown)
      : findOne(filter, options);
  Object.assign(collection, { findOne: stub });
  return () => Object.assign(collection, { findOne });
}
