import type { ClientSession, Collection, Db, Document } from "mongodb";
import { isDuplicateKeyError } from "@hub/kit";
import type { CardFacts } from "../rules/card-facts.js";
import type { CardDocument, CardEventDocument } from "./card-document.js";

/** What resolvers get for a card: the rule facts plus its printed number. */
export interface CardRecord extends CardFacts {
  number: string;
  version: number;
}

/**
 * The fields `toCardRecord` reads: reads fetch only these, not the history, idempotency records
 * and carried events a card also holds (up to ~100 entries the database would send and the
 * driver decode on every read of the card).
 */
export const CARD_RECORD_FIELDS = {
  personId: 1,
  number: 1,
  province: 1,
  issuingBank: 1,
  status: 1,
  issuedAt: 1,
  expiresAt: 1,
  collectedAt: 1,
  socialFunction: 1,
  electronicCard: 1,
  replacesId: 1,
  replacedById: 1,
  bankAccountStatus: 1,
  version: 1,
} as const satisfies Partial<Record<keyof CardDocument, 1>>;

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

/** Changes moved out of a card together (see CardCommands: HISTORY_KEPT). */
export interface HistoryBucket {
  _id: string;
  cardId: string;
  firstSeq: number;
  events: CardEventDocument[];
}

export class CardRepository {
  readonly cards: Collection<CardDocument>;
  /** Histories of cards stored before histories moved into cards (read, never written). */
  readonly events: Collection<CardEventDocument>;
  /** Older changes moved out of their card, in buckets of HISTORY_ARCHIVED_AT_ONCE. */
  readonly historyBuckets: Collection<HistoryBucket>;
  /** The cards as the outbox sees them: documents that carry their events. */
  readonly cardsAsCarrier: Collection<Document>;

  constructor(readonly db: Db) {
    this.cards = db.collection<CardDocument>("cards");
    this.cardsAsCarrier = db.collection("cards");
    this.events = db.collection<CardEventDocument>("card_events");
    this.historyBuckets = db.collection<HistoryBucket>("card_history_buckets");
  }

  async ensureIndexes(): Promise<void> {
    await this.cards.createIndex({ number: 1 }, { unique: true, name: "number_unique" });
    await this.cards.createIndex({ personId: 1, issuedAt: 1 }, { name: "person_cards" });
    await this.events.createIndex({ cardId: 1, at: 1, seq: 1 }, { name: "card_history" });
    await this.historyBuckets.createIndex({ cardId: 1, firstSeq: 1 }, { name: "card_buckets" });
  }

  async findByIds(ids: readonly string[]): Promise<CardRecord[]> {
    const docs = await this.cards
      .find({ _id: { $in: [...ids] } }, { projection: CARD_RECORD_FIELDS })
      .toArray();
    return docs.map(toCardRecord);
  }

  async findByPersonIds(personIds: readonly string[]): Promise<CardRecord[]> {
    const docs = await this.cards
      .find({ personId: { $in: [...personIds] } }, { projection: CARD_RECORD_FIELDS })
      .sort({ issuedAt: 1, _id: 1 })
      .toArray();
    return docs.map(toCardRecord);
  }

  /**
   * The cards' histories, oldest first: the recent part kept in each card, the buckets of older
   * changes moved out of it, and `card_events` for cards stored before histories moved into cards.
   */
  async findEventsByCardIds(cardIds: readonly string[]): Promise<CardEventDocument[]> {
    const cards = await this.cards.find({ _id: { $in: [...cardIds] } }).toArray();
    const legacy = cards.filter((card) => !card.history).map((card) => card._id);
    const bucketed = cards
      .filter((card) => (card.archivedHistory ?? 0) > 0)
      .map((card) => card._id);
    const [old, buckets] = await Promise.all([
      legacy.length === 0
        ? []
        : this.events
            .find({ cardId: { $in: legacy } })
            .sort({ at: 1, seq: 1 })
            .toArray(),
      bucketed.length === 0
        ? []
        : this.historyBuckets
            .find({ cardId: { $in: bucketed } })
            .sort({ cardId: 1, firstSeq: 1 })
            .toArray(),
    ]);
    const seen = new Set<string>();
    const events: CardEventDocument[] = [];
    for (const event of [
      ...old,
      ...buckets.flatMap((bucket) => bucket.events),
      ...cards.flatMap((card) => card.history ?? []),
    ]) {
      // An entry moved out by a write that then lost its race is also still in its card.
      if (seen.has(event._id)) continue;
      seen.add(event._id);
      events.push(event);
    }
    return events;
  }

  /**
   * Moves the oldest history entries of a card out of it, as one bucket document (the bucket
   * pattern: one insert per HISTORY_ARCHIVED_AT_ONCE changes; stored once if moved twice).
   */
  async archiveEvents(
    events: readonly CardEventDocument[],
    session: ClientSession | undefined,
  ): Promise<void> {
    const first = events[0];
    if (!first) return;
    const id = `${first.cardId}:${first.seq}`;
    // In a transaction a duplicate key would abort it (on a replica set): look first.
    if (session && (await this.historyBuckets.countDocuments({ _id: id }, { session, limit: 1 })))
      return;
    await this.historyBuckets
      .insertOne(
        { _id: id, cardId: first.cardId, firstSeq: first.seq, events: [...events] },
        { session },
      )
      .catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
  }

  async ping(): Promise<boolean> {
    await this.cards.countDocuments({}, { limit: 1 });
    return true;
  }
}
