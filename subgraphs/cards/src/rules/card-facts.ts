import type { Channel } from "@hub/kit";
import type { CardStatus, MirroredBankAccountStatus } from "../model/enums.js";

/** A status a card can be stored in; EXPIRED is never stored, it is derived when read (R-CARD-7). */
export type StoredCardStatus = Exclude<CardStatus, "EXPIRED">;

/** The facts about a card that the rules read. Storage maps its documents to this. */
export interface CardFacts {
  id: string;
  personId: string;
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
  /** Mirror of the bank account's status, kept by events from the bank-accounts subgraph. */
  bankAccountStatus: MirroredBankAccountStatus | null;
}
