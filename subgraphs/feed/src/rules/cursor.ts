import { HubError } from "@hub/kit";

/**
 * A position in the log: the entry's sequence number and when the log recorded it. Clients get it
 * as an opaque string (base64url of versioned JSON) and must not read it; the version lets the
 * encoding change without breaking cursors clients hold.
 */
export interface Cursor {
  seq: number;
  recordedAt: Date;
}

const VERSION = 1;
/** Longer than any cursor this log writes: a longer string is not one of them. */
const MAX_LENGTH = 200;
/** A cursor recorded later than now by more than this came from no clock of ours. */
const CLOCK_SKEW_MS = 5 * 60_000;

export function encodeCursor(cursor: Cursor): string {
  const json = JSON.stringify({ v: VERSION, s: cursor.seq, t: cursor.recordedAt.getTime() });
  return Buffer.from(json, "utf8").toString("base64url");
}

function forged(): HubError {
  return new HubError("BAD_USER_INPUT", "The cursor is not one this feed gave out.", {
    field: "after",
  });
}

/** The cursor a client sent back, or BAD_USER_INPUT when it is not one the log wrote. */
export function decodeCursor(raw: string): Cursor {
  if (raw.length === 0 || raw.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) throw forged();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw forged();
  }
  if (typeof parsed !== "object" || parsed === null) throw forged();
  const { v, s, t } = parsed as Record<string, unknown>;
  if (v !== VERSION || !Number.isSafeInteger(s) || !Number.isSafeInteger(t)) throw forged();
  if ((s as number) < 1 || (t as number) < 0) throw forged();
  // Re-encoding gives the same string: no padding, extra keys or other spellings of one cursor.
  const cursor = { seq: s as number, recordedAt: new Date(t as number) };
  if (encodeCursor(cursor) !== raw) throw forged();
  return cursor;
}

/**
 * A cursor's age against the log's retention (HUB_EVENT_RETENTION_DAYS): older is CURSOR_EXPIRED
 * (the client falls back to a query), later than now is forged.
 */
export function checkCursorAge(cursor: Cursor, now: Date, retentionMs: number): void {
  if (cursor.recordedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) throw forged();
  if (cursor.recordedAt.getTime() < now.getTime() - retentionMs)
    throw new HubError(
      "CURSOR_EXPIRED",
      "The cursor is older than the feed's retention; read the log again with cardEventLog.",
      { field: "after" },
    );
}

/** CURSOR_EXPIRED for a cursor the log has pruned past (its entries after it are gone). */
export function expiredCursor(): HubError {
  return new HubError(
    "CURSOR_EXPIRED",
    "The events after this cursor are past the feed's retention; read the log again with cardEventLog.",
    { field: "after" },
  );
}

export { forged as forgedCursor };
