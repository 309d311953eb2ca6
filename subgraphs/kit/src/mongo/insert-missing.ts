import type { Collection, Document, OptionalUnlessRequiredId } from "mongodb";
import { MongoBulkWriteError } from "mongodb";
import { isDuplicateKeyError } from "./connect.js";

/**
 * Inserts documents whose `_id` is not stored yet and leaves existing ones untouched, so seeding
 * with deterministic ids can run on every start (and an event released twice is stored once).
 * Returns how many were new. The embedded server stops an unordered insert at its first
 * duplicate key, so after one the documents are inserted one by one.
 */
export async function insertMissing<T extends Document>(
  collection: Collection<T>,
  docs: OptionalUnlessRequiredId<T>[],
): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    return (await collection.insertMany(docs, { ordered: false })).insertedCount;
  } catch (error) {
    const onlyDuplicates =
      error instanceof MongoBulkWriteError &&
      (Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]).every(
        (e) => e.code === 11000,
      );
    if (!onlyDuplicates) throw error;
    let inserted = 0;
    for (const doc of docs)
      inserted += await collection.insertOne(doc).then(
        () => 1,
        (again: unknown) => {
          if (isDuplicateKeyError(again)) return 0;
          throw again;
        },
      );
    return inserted;
  }
}
