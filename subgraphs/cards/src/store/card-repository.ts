import type { ClientSession, Collection, Db, Document } from "mongodb";
import { beside, insertMissing, isDuplicateKeyError } from "@hub/kit";
import type { CardFacts } from "../rules/card-facts.js";
import { cardNumberKey } from "../rules/card-number.js";
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

/** Changes moved out of a card together: HISTORY_ARCHIVED_AT_ONCE of them (card-document.ts). */
export interface HistoryBucket {
  _id: string;
  cardId: string;
  firstSeq: number;
  events: CardEventDocument[];
}

/**
 * A printed number taken in its province (`_id`: cardNumberKey), and the card that took it. The
 * reservation is inserted before its card: its duplicate key is the uniqueness check, which a
 * unique index on `cards` could not be once `cards` is sharded by person (docs/scale.md).
 */
export interface CardNumberDocument {
  _id: string;
  cardId: string;
  at: Date;
}

/** Cards read per page when reserving the numbers of stored cards. */
const NUMBER_BACKFILL_BATCH = 500;

export class CardRepository {
  readonly cards: Collection<CardDocument>;
  /** Histories of cards stored before histories moved into cards (read, never written). */
  readonly events: Collection<CardEventDocument>;
  /** Older changes moved out of their card, in buckets of HISTORY_ARCHIVED_AT_ONCE. */
  readonly historyBuckets: Collection<HistoryBucket>;
  /** Printed numbers taken, per province (see CardNumberDocument). */
  readonly cardNumbers: Collection<CardNumberDocument>;
  /** The cards as the outbox sees them: documents that carry their events. */
  readonly cardsAsCarrier: Collection<Document>;

  constructor(readonly db: Db) {
    this.cards = db.collection<CardDocument>("cards");
    this.cardsAsCarrier = db.collection("cards");
    this.events = db.collection<CardEventDocument>("card_events");
    this.historyBuckets = db.collection<HistoryBucket>("card_history_buckets");
    this.cardNumbers = db.collection<CardNumberDocument>("card_numbers");
  }

  async ensureIndexes(): Promise<void> {
    // Numbers are unique per province through `card_numbers` (no unique index on `cards.number`:
    // it would be nationwide, and not enforceable once `cards` is sharded by person). A database
    // that has the old `number_unique` index keeps it until its numbers are copied into
    // `card_numbers`; until then a number it refuses is drawn again like any taken one.
    // Created here: reservations are written inside the replacement's transaction, where a
    // collection may not be created implicitly.
    await this.cardNumbers.createIndex({ _id: 1 });
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
    // In a transaction a duplicate key would abort it (on a replica set): look first, by the
    // planned shard key {cardId, firstSeq} so the look goes to one shard.
    if (
      session &&
      (await this.historyBuckets.countDocuments(
        { cardId: first.cardId, firstSeq: first.seq, _id: id },
        { session, limit: 1 },
      ))
    )
      return;
    const bucket = { _id: id, cardId: first.cardId, firstSeq: first.seq, events: [...events] };
    // Outside a transaction (a single-card change) it waits beside them: replacements' transactions
    // write buckets too.
    await (
      session
        ? this.historyBuckets.insertOne(bucket, { session })
        : beside(this.db, () => this.historyBuckets.insertOne(bucket))
    ).catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
    });
  }

  /** Whether `number` is free in `province` (a look before drawing again is cheaper than a failed write). */
  async isNumberFree(province: string, number: string, session?: ClientSession): Promise<boolean> {
    const key = cardNumberKey(province, number);
    return (await this.cardNumbers.countDocuments({ _id: key }, { session, limit: 1 })) === 0;
  }

  /**
   * Takes `number` in `province` for `cardId`, outside a transaction: true when it is this card's
   * (reserved now, or by an earlier attempt for the same card that stopped before storing it),
   * false when another card has it.
   */
  async reserveNumber(province: string, number: string, cardId: string): Promise<boolean> {
    const key = cardNumberKey(province, number);
    try {
      await beside(this.db, () => this.cardNumbers.insertOne({ _id: key, cardId, at: new Date() }));
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return (await this.cardNumbers.findOne({ _id: key }))?.cardId === cardId;
    }
  }

  /**
   * Takes `number` in `province` for `cardId` inside a transaction: the caller has looked it up
   * as free in the same transaction (a duplicate key would abort the transaction on a replica set,
   * so a number taken concurrently fails the transaction rather than issuing it twice).
   */
  async reserveNumberIn(
    session: ClientSession,
    province: string,
    number: string,
    cardId: string,
  ): Promise<void> {
    await this.cardNumbers.insertOne(
      { _id: cardNumberKey(province, number), cardId, at: new Date() },
      { session },
    );
  }

  /**
   * Reserves the numbers of cards stored without a reservation (by versions before
   * `card_numbers`, or seeded), so a new card cannot draw them. Runs at start-up when the
   * estimated counts say some may be missing (every card is stored after its reservation, so
   * normally there are at least as many reservations as cards); idempotent, so an interrupted run
   * simply runs again. Answers how many it wrote.
   */
  async backfillCardNumbers(): Promise<number> {
    const [cards, reserved] = await Promise.all([
      this.cards.estimatedDocumentCount(),
      this.cardNumbers.estimatedDocumentCount(),
    ]);
    if (reserved >= cards) return 0;
    let written = 0;
    let after: string | null = null;
    for (;;) {
      const page: CardDocument[] = await this.cards
        .find(after === null ? {} : { _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(NUMBER_BACKFILL_BATCH)
        .toArray();
      if (page.length === 0) return written;
      after = page[page.length - 1]!._id;
      written += await this.reserveNumbersOf(page);
    }
  }

  /** Reserves the numbers of stored (or seeded) cards, leaving those reserved already. */
  async reserveNumbersOf(
    cards: readonly Pick<CardDocument, "_id" | "province" | "number" | "issuedAt">[],
  ): Promise<number> {
    return beside(this.db, () =>
      insertMissing(
        this.cardNumbers,
        cards.map((card) => ({
          _id: cardNumberKey(card.province, card.number),
          cardId: card._id,
          at: card.issuedAt,
        })),
      ),
    );
  }

  async ping(): Promise<boolean> {
    await this.cards.countDocuments({}, { limit: 1 });
    return true;
  }
}
