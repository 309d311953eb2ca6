import type { ClientSession, Collection, Db, Document } from "mongodb";
import { isDuplicateKeyError } from "@hub/kit";
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
  /** The cards as the outbox sees them: documents that carry their events. */
  readonly cardsAsCarrier: Collection<Document>;

  constructor(readonly db: Db) {
    this.cards = db.collection<CardDocument>("cards");
    this.cardsAsCarrier = db.collection("cards");
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

  /**
   * The cards' histories, oldest first: the recent part kept in each card, and `card_events` for
   * cards that moved older changes there (or were stored before histories moved into cards).
   */
  async findEventsByCardIds(cardIds: readonly string[]): Promise<CardEventDocument[]> {
    const cards = await this.cards.find({ _id: { $in: [...cardIds] } }).toArray();
    const withArchive = cards
      .filter((card) => !card.history || (card.archivedHistory ?? 0) > 0)
      .map((card) => card._id);
    const archived =
      withArchive.length === 0
        ? []
        : await this.events
            .find({ cardId: { $in: withArchive } })
            .sort({ at: 1, seq: 1 })
            .toArray();
    const seen = new Set<string>();
    const events: CardEventDocument[] = [];
    for (const event of [...archived, ...cards.flatMap((card) => card.history ?? [])]) {
      // An entry archived by a write that then lost its race is also still in its card.
      if (seen.has(event._id)) continue;
      seen.add(event._id);
      events.push(event);
    }
    return events;
  }

  /** Moves the oldest history entries of a card out of it (each entry stored once). */
  async archiveEvents(
    events: readonly CardEventDocument[],
    session: ClientSession | undefined,
  ): Promise<void> {
    for (const event of events)
      await this.events.insertOne(event, { session }).catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
  }

  async ping(): Promise<boolean> {
    await this.cards.countDocuments({}, { limit: 1 });
    return true;
  }
}
