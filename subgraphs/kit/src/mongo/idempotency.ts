import { createHash } from "node:crypto";
import type { ClientSession, Collection, Db } from "mongodb";
import type { Channel } from "../channels.js";
import { HubError } from "../errors.js";
import { isDuplicateKeyError } from "./connect.js";
import { untilMajorityShows } from "./majority-read.js";
import { beside, runTransaction } from "./transactions.js";

interface IdempotencyRecord {
  /** `channel:operation:key`: a key is scoped to the caller's channel and the operation (CONTRACT.md). */
  _id: string;
  operation: string;
  fingerprint: string;
  result: Record<string, unknown>;
  createdAt: Date;
}

/** CONTRACT.md: keys are at most this long. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;

/** An idempotency key a client sent: 1 to 128 characters, no control characters. */
export function checkIdempotencyKey(key: string | null | undefined): void {
  if (key === null || key === undefined) return;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw new HubError(
      "BAD_USER_INPUT",
      `An idempotency key has 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters (this one has ${key.length}).`,
      { field: "idempotencyKey" },
    );
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(key))
    throw new HubError("BAD_USER_INPUT", "An idempotency key has no control characters.", {
      field: "idempotencyKey",
    });
}

/** Stable JSON (sorted keys) so the same input always has the same fingerprint. */
function stableJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The record id of a key: scoped to the caller's channel and the operation (CONTRACT.md). */
export function keyRecordId(channel: Channel, operation: string, key: string): string {
  return `${channel}:${operation}:${key}`;
}

/** What a replay must match: the operation and its input without the key. */
export function requestFingerprint(operation: string, input: unknown): string {
  return createHash("sha256")
    .update(`${operation}\n${stableJson(input)}`)
    .digest("hex");
}

/**
 * The first answer for a replayed key, or null for a new one; the same key with other input is a
 * CONFLICT. One rule for both stores: a record in `idempotency_keys`, or one kept inside the
 * document the request changed (KeyRecord).
 */
export function replayOf<R>(
  record: { fingerprint: string; result: unknown } | null | undefined,
  fingerprint: string,
  key: string,
  operation: string,
): R | null {
  if (!record) return null;
  if (record.fingerprint !== fingerprint)
    throw new HubError(
      "CONFLICT",
      `The idempotency key "${key}" was already used by this channel for a different ${operation} request.`,
    );
  return record.result as R;
}

export interface IdempotentRun<R extends Record<string, unknown>> {
  db: Db;
  channel: Channel;
  /** Absent: the mutation simply runs once in a transaction. */
  key: string | null | undefined;
  operation: string;
  /** The mutation's input without the key: a replay must match it. */
  input: unknown;
  /** The change, inside the transaction; returns what a replay must answer (ids, not documents). */
  work: (session: ClientSession) => Promise<R>;
}

/**
 * Runs a mutation that writes several documents in one transaction and, when it carries an
 * idempotency key, records its result in `idempotency_keys` in that same transaction (mutations
 * that change one document keep the record in it instead: see document-keys.ts). A replay with
 * the same input returns the first result and changes nothing; the same key with a different
 * input is a CONFLICT. Concurrent calls with one key end with one change: the losers see the
 * winner's record (on retry, or by its unique key) and answer its result.
 */
export async function runIdempotent<R extends Record<string, unknown>>(
  run: IdempotentRun<R>,
): Promise<R> {
  const keys: Collection<IdempotencyRecord> =
    run.db.collection<IdempotencyRecord>("idempotency_keys");
  checkIdempotencyKey(run.key);
  const id = run.key ? keyRecordId(run.channel, run.operation, run.key) : null;
  const fingerprint = requestFingerprint(run.operation, run.input);
  const replay = (record: IdempotencyRecord | null): R | null =>
    replayOf<R>(record, fingerprint, run.key ?? "", run.operation);

  // Outside the transaction the record is looked up in the embedded server's turn (`beside`): it
  // writes a committing transaction's collections back one by one, so a reader could see the
  // record and still the cards before the change the record answers for. A record found answers
  // (or refuses other input) only as a majority holds it: the primary's own data may hold another
  // call's transaction that is not replicated yet, and a failover would roll back the change the
  // answer reports. A first call finds none and pays for no more than this one read.
  const recorded = async (key: string): Promise<R | null> => {
    if (!(await beside(run.db, () => keys.findOne({ _id: key })))) return null;
    // Not shown after a few reads: being written, or rolled back; the caller retries.
    const durable = await untilMajorityShows(
      () =>
        beside(run.db, () => keys.findOne({ _id: key }, { readConcern: { level: "majority" } })),
      "The first call with this idempotency key is still being written; retry shortly.",
    );
    return replay(durable);
  };

  if (id) {
    const earlier = await recorded(id);
    if (earlier) return earlier;
  }
  try {
    return await runTransaction(run.db, async (session) => {
      if (id) {
        const earlier = replay(await keys.findOne({ _id: id }, { session }));
        if (earlier) return earlier;
      }
      const produced = await run.work(session);
      if (id)
        await keys.insertOne(
          {
            _id: id,
            operation: run.operation,
            fingerprint,
            result: produced,
            createdAt: new Date(),
          },
          { session },
        );
      return produced;
    });
  } catch (error) {
    if (id && isDuplicateKeyError(error)) {
      const earlier = await recorded(id);
      if (earlier) return earlier;
    }
    throw error;
  }
}

/**
 * Creates, at start-up, the idempotency records' collection (`_id` is the unique
 * `channel:operation:key`; the index serves the retention sweep). A subgraph that runs
 * transactions (runIdempotent) also calls prepareTransactions (transaction-turns.ts).
 */
export async function ensureIdempotencyIndexes(db: Db): Promise<void> {
  await db.collection("idempotency_keys").createIndex({ createdAt: 1 }, { name: "created" });
}
