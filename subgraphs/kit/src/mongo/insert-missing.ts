import type { Collection, Document, OptionalUnlessRequiredId } from "mongodb";
import { MongoBulkWriteError } from "mongodb";

/**
 * Inserts documents whose `_id` is not stored yet and leaves existing ones untouched, so seeding
 * with deterministic ids can run on every start. Returns how many were new.
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
    return error.result.insertedCount;
  }
}
