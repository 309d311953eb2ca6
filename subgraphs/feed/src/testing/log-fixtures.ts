import { prepareTransactions } from "@hub/kit";
import type { Db, MongoClient } from "mongodb";
import { CardEventLog, type LogLayout, type NewLogEntry } from "../store/card-event-log.js";

/** When the fixtures' events occurred (and were recorded, unless a test says otherwise). */
export const at = new Date("2026-12-01T08:00:00.000Z");

/**
 * A card event log in a database of its own (`name` and a random suffix), its indexes and
 * transactions prepared; in `layout`, or the one the server chooses when absent.
 */
export async function freshLog(
  client: MongoClient,
  name: string,
  layout?: LogLayout,
): Promise<{ db: Db; log: CardEventLog }> {
  const db = client.db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  const log = new CardEventLog(db, { layout });
  await Promise.all([log.ensureIndexes(), prepareTransactions(db)]);
  return { db, log };
}

/**
 * An entry for event `id`: `personId`'s card (`c_<personId>`) reported lost, recorded at
 * `recordedAt`.
 */
export function logEntry(id: string, personId: string, recordedAt = at): NewLogEntry {
  return {
    _id: id,
    type: "LOSS_REPORTED",
    cardId: `c_${personId}`,
    personId,
    statusBefore: "NORMAL",
    statusAfter: "TEMPORARY_LOSS",
    occurredAt: at,
    channel: "COUNTER",
    source: "cards",
    sourceType: "CardStatusChanged",
    recordedAt,
  };
}
