import type { Channel } from "@hub/kit";
import type { CardEventType } from "../rules/card-event-types.js";
import { encodeCursor } from "../rules/cursor.js";
import type { CardEventLog } from "../store/card-event-log.js";

/** One entry of the status-change log as webhooks read it. */
export interface LogEntry {
  /** Position in the log: webhooks remember the last one they handled. */
  seq: number;
  eventId: string;
  cursor: string;
  type: CardEventType;
  occurredAt: Date;
  channel: Channel;
  statusBefore: string | null;
  statusAfter: string | null;
  cardId: string | null;
  personId: string | null;
  /** When the log recorded it: how long a delivery has been pending counts from here. */
  recordedAt: Date;
}

/**
 * The log, as much of it as webhooks need. Kept small so the deliverer is tested without the
 * feed's store, and the store may change behind it.
 */
export interface CardEventSource {
  /**
   * Up to `limit` entries after `seq`, in log order; only those of `types` when given; with
   * `through` (from `newest`), none after it, and a short page only once the log shows it.
   */
  after(
    seq: number,
    limit: number,
    types?: readonly CardEventType[] | null,
    through?: number,
  ): Promise<LogEntry[]>;
  /**
   * The newest entry's number. Every entry numbered up to it is committed and visible (the log
   * numbers and inserts in one transaction), so a reader may skip to it past entries it filtered.
   */
  newest(): Promise<number>;
}

/** The feed's own log (`card_events`) as a CardEventSource. */
export function cardEventSource(log: CardEventLog): CardEventSource {
  return {
    async after(seq, limit, types, through) {
      const entries = await log.read(seq, { types: types ?? null }, limit, through);
      // Mapped field by field: nothing the log keeps for operators (source, sourceType) leaks.
      return entries.map((doc) => ({
        seq: doc.seq,
        eventId: doc._id,
        cursor: encodeCursor({ seq: doc.seq, recordedAt: doc.recordedAt }),
        type: doc.type,
        occurredAt: doc.occurredAt,
        channel: doc.channel,
        statusBefore: doc.statusBefore,
        statusAfter: doc.statusAfter,
        cardId: doc.cardId,
        personId: doc.personId,
        recordedAt: doc.recordedAt,
      }));
    },
    newest: () => log.newestSeq(),
  };
}
