import type { Channel } from "../channels.js";
import { checkIdempotencyKey, keyRecordId, replayOf, requestFingerprint } from "./idempotency.js";

/**
 * An idempotency record kept inside the document a request changed: written by the same atomic
 * single-document update as the change, so a mutation that changes one document needs no
 * transaction and no growing collection of keys. Received events use it too (`eventKey`): an event
 * applied to a document is recorded there, so its redelivery changes nothing.
 */
export interface KeyRecord {
  id: string;
  fingerprint: string;
  result: Record<string, unknown>;
  at: Date;
  /** The outbox documents the request caused: a replay waits for those still on their way. */
  events?: string[];
}

/** A request's key as a document keeps it, or null when it came without one. */
export interface DocumentKey {
  id: string;
  fingerprint: string;
  key: string;
  operation: string;
}

/** How many records a document keeps, and for how long (replays come within minutes). */
export const DOCUMENT_KEYS_KEPT = 32;
export const DOCUMENT_KEY_RETENTION_MS = 24 * 3_600_000;

export function documentKey(
  channel: Channel,
  operation: string,
  key: string | null | undefined,
  input: unknown,
): DocumentKey | null {
  checkIdempotencyKey(key);
  if (!key) return null;
  return {
    id: keyRecordId(channel, operation, key),
    fingerprint: requestFingerprint(operation, input),
    key,
    operation,
  };
}

/** A received event's id as a key: applied once per document. */
export function eventKey(eventId: string): DocumentKey {
  return { id: `event:${eventId}`, fingerprint: eventId, key: eventId, operation: "event" };
}

/** The record of `key` among the document's records (CONFLICT for other input), or null. */
export function recordFor(
  records: readonly KeyRecord[] | undefined,
  key: DocumentKey | null,
): KeyRecord | null {
  if (!key) return null;
  const record = records?.find((r) => r.id === key.id);
  return replayOf<KeyRecord>(
    record && { fingerprint: record.fingerprint, result: record },
    key.fingerprint,
    key.key,
    key.operation,
  );
}

/** The document's records with this request's added: the newest `DOCUMENT_KEYS_KEPT` of a day. */
export function withKeyRecord(
  records: readonly KeyRecord[] | undefined,
  key: DocumentKey | null,
  result: Record<string, unknown>,
  now: Date,
  events: readonly { _id: string }[] = [],
): KeyRecord[] {
  const kept = (records ?? []).filter(
    (r) => now.getTime() - new Date(r.at).getTime() < DOCUMENT_KEY_RETENTION_MS,
  );
  if (!key) return kept.slice(-DOCUMENT_KEYS_KEPT);
  const record: KeyRecord = { id: key.id, fingerprint: key.fingerprint, result, at: now };
  if (events.length > 0) record.events = events.map((e) => e._id);
  return [...kept, record].slice(-DOCUMENT_KEYS_KEPT);
}
