import type { Collection, Db } from "mongodb";
import type { CardFacts } from "../rules/card-facts.js";
import type { CardDocument, CardEventDocument } from "./card-document.js";

/** What resolvers get for a card: the rule facts plus its printed number. */
export interface CardRecord extends CardFacts {
  number: string;
  version: number;
}

export function toCardRecord(doc: CardDocument): CardRecord {
  return {
    id: doc._id,
    personId: doc.personId,
    number: doc.number,
    province: doc.province,
    issuingBank: doc.issuingBank,
    status: doc.status,
    issuedAt: doc.issuedAt,
    expiresAt: doc.expiresAt,
    collectedAt: doc.collectedAt,
    socialFunction: {
      enabled: doc.socialFunction.enabled,
      enabledAt: doc.socialFunction.enabledAt,
      channel: doc.socialFunction.channel,
    },
    electronicCard: doc.electronicCard
      ? { channel: doc.electronicCard.channel, issuedAt: doc.electronicCard.issuedAt }
      : null,
    replacesId: doc.replacesId,
    replacedById: doc.replacedById,
    bankAccountStatus: doc.bankAccountStatus,
    version: doc.version,
  };
}

export class CardRepository {
  readonly cards: Collection<CardDocument>;
  readonly events: Collection<CardEventDocument>;

  constructor(readonly db: Db) {
    this.cards = db.collection<CardDocument>("cards");
    this.events = db.collection<CardEventDocument>("card_events");
  }

  async ensureIndexes(): Promise<void> {
    await this.cards.createIndex({ number: 1 }, { unique: true, name: "number_unique" });
    await this.cards.createIndex({ personId: 1, issuedAt: 1 }, { name: "person_cards" });
    await this.events.createIndex({ cardId: 1, at: 1, seq: 1 }, { name: "card_history" });
  }

  async findByIds(ids: readonly string[]): Promise<CardRecord[]> {
    const docs = await this.cards.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toCardRecord);
  }

  async findByPersonIds(personIds: readonly string[]): Promise<CardRecord[]> {
    const docs = await this.cards
      .find({ personId: { $in: [...personIds] } })
      .sort({ issuedAt: 1, _id: 1 })
      .toArray();
    return docs.map(toCardRecord);
  }

  async findEventsByCardIds(cardIds: readonly string[]): Promise<CardEventDocument[]> {
    return this.events
      .find({ cardId: { $in: [...cardIds] } })
      .sort({ at: 1, seq: 1 })
      .toArray();
  }

  async ping(): Promise<boolean> {
    await this.cards.countDocuments({}, { limit: 1 });
    return true;
  }
}
