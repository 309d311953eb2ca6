import { SUBGRAPH_NAMES, subgraphDatabaseName, type MongoClient } from "@hub/kit";
import type { Db } from "mongodb";

/** Events waiting for delivery, per database: in the outbox and still carried in documents. */
export interface Pending {
  outbox: Record<string, number>;
  carried: Record<string, number>;
  total: number;
}

/** Each subgraph's database of the run, by subgraph name. */
export function databases(client: MongoClient, prefix: string): Map<string, Db> {
  return new Map(
    SUBGRAPH_NAMES.map((name) => [name, client.db(subgraphDatabaseName(prefix, name))]),
  );
}

/**
 * The collections whose documents carry events (Outbox.carriedIn): a single-document write stores
 * its events in the document and releases them to the outbox after. The embedded server has no
 * listCollections, so they are named here.
 */
const CARRIERS: Record<string, string[]> = {
  persons: ["persons"],
  cards: ["cards"],
  "bank-accounts": ["bank_accounts"],
  passwords: [],
};

export async function pendingEvents(dbs: Map<string, Db>): Promise<Pending> {
  const pending: Pending = { outbox: {}, carried: {}, total: 0 };
  for (const [name, db] of dbs) {
    pending.outbox[name] = await db.collection("outbox").countDocuments({});
    // Not released yet, or left by a writer that died before releasing: the relay's sweep moves
    // them to the outbox (the same filter as the relay's sweep).
    let carried = 0;
    for (const collection of CARRIERS[name] ?? [])
      carried += await db
        .collection(collection)
        .countDocuments({ outgoingSince: { $gt: new Date(0) } });
    pending.carried[name] = carried;
    pending.total += pending.outbox[name]! + carried;
  }
  return pending;
}

/** Polls until nothing waits for delivery; the time it took, or null after `timeoutMs`. */
export async function waitForDrain(
  dbs: Map<string, Db>,
  timeoutMs: number,
): Promise<{ ms: number | null; pending: Pending }> {
  const started = Date.now();
  for (;;) {
    const pending = await pendingEvents(dbs);
    if (pending.total === 0) return { ms: Date.now() - started, pending };
    if (Date.now() - started > timeoutMs) return { ms: null, pending };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
