import type { Channel } from "@hub/kit";
import type { CardEventType, MirroredBankAccountStatus } from "../model/enums.js";
import type { StoredCardStatus } from "../rules/card-facts.js";

/** A card as stored in the cards database. */
export interface CardDocument {
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
  /** The bank account's version the mirror shows (absent: never announced). */
  bankAccountVersion?: number;
  /** Optimistic concurrency: every update filters on and increments it. */
  version: number;
  updatedAt: Date;
}

/** One change of a card, kept in its own collection (histories are never grown arrays). */
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
