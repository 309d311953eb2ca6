import type { CarriedEvents, Channel, KeyRecord } from "@hub/kit";
import type { CardEventType, MirroredBankAccountStatus } from "../model/enums.js";
import type { StoredCardStatus } from "../rules/card-facts.js";

/** Changes kept inside a card; when more accrue, the oldest go to `card_history_buckets`. */
export const HISTORY_KEPT = 64;
/** Changes moved out of a card at once: one bucket document in `card_history_buckets`. */
export const HISTORY_ARCHIVED_AT_ONCE = 32;

/**
 * A card as stored in the cards database. A command changes it with one version-guarded update
 * that also writes its recent history, the events it causes (CarriedEvents) and its idempotency
 * record: no multi-document transaction for a card's own changes.
 */
export interface CardDocument extends CarriedEvents {
  _id: string;
  personId: string;
  number: string;
  province: string;
  issuingBank: string;
  status: StoredCardStatus;
  issuedAt: Date;
  expiresAt: Date;
  collectedAt: Date | null;
  socialFunction: { enabled: boolean; enabledAt: Date | null; channel: Channel | null };
  electronicCard: { channel: Channel; issuedAt: Date } | null;
  replacesId: string | null;
  replacedById: string | null;
  bankAccountStatus: MirroredBankAccountStatus | null;
  /** The bank account's version the mirror shows (absent or null: never announced). */
  bankAccountVersion?: number | null;
  /** Optimistic concurrency: every command filters on and increments it. */
  version: number;
  updatedAt: Date;
  /**
   * The card's most recent changes, oldest first (at most HISTORY_KEPT; older ones are moved to
   * `card_history_buckets`, HISTORY_ARCHIVED_AT_ONCE at a time). Absent on a card stored before
   * histories moved into the card: its history is all in the legacy `card_events`.
   */
  history?: CardEventDocument[];
  /** How many of its changes were moved out of it (to `card_history_buckets`, or legacy `card_events`). */
  archivedHistory?: number;
  /** Idempotency records of the commands and received events that changed this card. */
  keys?: KeyRecord[];
}

/** One change of a card: the recent ones inside the card, older ones in `card_history_buckets`. */
export interface CardEventDocument {
  _id: string;
  cardId: string;
  at: Date;
  /** Order of events with the same time within one card. */
  seq: number;
  type: CardEventType;
  channel: Channel;
  fromStatus: StoredCardStatus | null;
  toStatus: StoredCardStatus;
  actor: string;
  agent: { idNumber: string; name: string; powerOfAttorneyRef: string } | null;
  /** What else was recorded: cancellation reason, fee, police certificate, event source. */
  details?: Record<string, string | number | boolean> | null;
}
