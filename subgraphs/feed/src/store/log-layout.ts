import type { CardEventType } from "../rules/card-event-types.js";
import type { CardEventDocument } from "./card-event-document.js";

/** The counter document's `_id` (`card_event_counter`), in either layout. */
export const COUNTER_ID = "card_events";

/** Which entries a reader wants: one person's, some types', or all. */
export interface LogFilter {
  personId?: string | null;
  types?: readonly CardEventType[] | null;
}

/** An entry before the log numbers it. */
export type NewLogEntry = Omit<CardEventDocument, "seq">;

/** The stored entry, and whether this call stored it (false: a duplicate). */
export interface AppendResult {
  stored: CardEventDocument;
  added: boolean;
}
