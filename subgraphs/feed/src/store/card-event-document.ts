import type { Channel } from "@hub/kit";
import type { CardEventType } from "../rules/card-event-types.js";

/**
 * One entry of the append-only log (`card_events`): a committed change as the feed reports it.
 * `_id` is the delivered event's id, so each event is recorded once however often it is delivered
 * (for an event cards passes on, ForwardedToFeed, an id derived from the original event's).
 */
export interface CardEventDocument {
  _id: string;
  /** Position in the log, from the counter incremented in the transaction that inserted it. */
  seq: number;
  type: CardEventType;
  cardId: string | null;
  personId: string | null;
  statusBefore: string | null;
  statusAfter: string | null;
  /** When the change happened (domain time, from the event). */
  occurredAt: Date;
  channel: Channel;
  /**
   * The subgraph and catalogue event it came from (for operators): for an event cards passed on,
   * the original's producer and type (the bank's, passwords').
   */
  source: string;
  sourceType: string;
  /** When the log recorded it (this subgraph's clock): cursors and retention go by it. */
  recordedAt: Date;
}

/** The counter of the log's sequence numbers (`card_event_counter`, one document). */
export interface CounterDocument {
  _id: string;
  seq: number;
  /**
   * Every entry numbered up to here is pruned, or being pruned: set before the retention deletes
   * them, so a reader that finds it past its position after a read knows the read may have holes.
   */
  pruned?: number;
}
