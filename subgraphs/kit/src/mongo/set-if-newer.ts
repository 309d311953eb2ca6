import type { Collection, Document, Filter } from "mongodb";
import { isDuplicateKeyError } from "./connect.js";

/**
 * Sets `fields` on the document at `address`, creating it if it is not stored yet, but only where
 * `newer` holds (e.g. its version is older than the one being written): the one-write way a
 * receiver keeps the newest state whatever order events arrive in. True when it wrote.
 *
 * When the filter misses an existing document the upsert meets its `_id` (duplicate key): either
 * that document is as new or newer (nothing to do), or another writer inserted it between this
 * filter and this insert (two events of a new aggregate at once). The guarded update without
 * upsert then decides, so the newer of the two always lands.
 */
export async function setIfNewer<T extends Document>(
  collection: Collection<T>,
  address: Filter<T>,
  newer: Filter<T>,
  fields: Partial<T>,
): Promise<boolean> {
  const filter = { ...address, ...newer } as Filter<T>;
  try {
    const result = await collection.updateOne(filter, { $set: fields }, { upsert: true });
    return result.modifiedCount > 0 || result.upsertedCount > 0;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return (await collection.updateOne(filter, { $set: fields })).modifiedCount > 0;
  }
}
