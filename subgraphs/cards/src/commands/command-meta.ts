import type { Caller, EffectScope } from "@hub/kit";
import type { Fee } from "../rules/fee.js";
import type { FeedReported } from "./card-events.js";
import type { CardRecord } from "../store/card-repository.js";

/** Who runs a card command, when, and what its idempotency and history records keep of it. */
export interface CommandMeta {
  caller: Caller;
  now: Date;
  operation: string;
  idempotencyKey?: string | null;
  /** The input without its key, for idempotent replays. */
  input: unknown;
  agent?: { idNumber: string; name: string; powerOfAttorneyRef: string } | null;
  details?: Record<string, string | number | boolean>;
  /** Set when another subgraph's event causes the command: applied once per card. */
  eventId?: string;
  /**
   * That event, when it is one the feed hears of through cards: passed on to the feed in the
   * same write (ForwardedToFeed), whether the command changes the card or not, so the feed gets
   * it in this card's order (docs/feed.md "Per-card order").
   */
  passOn?: FeedReported;
  /** The request's (or received event's) effect scope: it waits for the events this commits. */
  effects: EffectScope | null;
}

/**
 * What a command answers, kept with its idempotency key: a replay answers the card as it was
 * after the first call (CONTRACT.md "Writes"), not as it is now.
 */
export interface CommandResult extends Record<string, unknown> {
  cardId: string;
  card: CardRecord;
  firstActivation?: boolean;
  newCard?: CardRecord;
  fee?: Fee;
}
