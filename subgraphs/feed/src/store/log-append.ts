import type { ClientSession, Collection } from "mongodb";
import type { CardEventDocument, CounterDocument } from "./card-event-document.js";
import { COUNTER_ID, type AppendResult, type NewLogEntry } from "./log-layout.js";

/** Where a layout of the log keeps its entries (EntryLog, BucketLog). */
export interface StoredEntries {
  /** The entry stored before for this event id (a delivery found again), if any. */
  earlier(id: string): Promise<CardEventDocument | null | undefined>;
  /** Writes an entry the counter has just numbered. */
  write(stored: CardEventDocument): Promise<unknown>;
}

/**
 * Appends `entry` once per event id: the entry stored for its id before, or the entry numbered
 * next by the log's `counter` and written. The caller makes the steps one: a transaction
 * (`session`) or the kit's turn, so that commit order is number order.
 */
export async function appendOnce(
  counter: Collection<CounterDocument>,
  entries: StoredEntries,
  entry: NewLogEntry,
  session?: ClientSession,
): Promise<AppendResult> {
  const earlier = await entries.earlier(entry._id);
  if (earlier) return { stored: earlier, added: false };
  const counted = await counter.findOneAndUpdate(
    { _id: COUNTER_ID },
    { $inc: { seq: 1 } },
    { returnDocument: "after", upsert: true, ...(session ? { session } : {}) },
  );
  if (!counted) throw new Error("the log's counter could not be incremented");
  const stored: CardEventDocument = { ...entry, seq: counted.seq };
  await entries.write(stored);
  return { stored, added: true };
}
