import { beside, KnownIds, setIfNewer } from "@hub/kit";
import type { ClientSession, Collection, Db } from "mongodb";
import type { KnownCardDocument } from "./password-documents.js";

/** A card as the cards subgraph announced it: its status and holder, when known. */
export interface KnownCard {
  status: string | null;
  personId: string | null;
}

/**
 * The cards and persons announced by their subgraphs' events (`known_cards`, `known_persons`):
 * passwords exist only for these. A card's record also keeps the status the cards subgraph last
 * announced (R-CARD-10: a cancelled card's password is no longer usable).
 */
export class KnownSubjects {
  readonly cards: KnownIds;
  readonly persons: KnownIds;
  /** The same `known_cards` records, with the card status the cards subgraph announced. */
  readonly cardRecords: Collection<KnownCardDocument>;

  constructor(private readonly db: Db) {
    this.cards = new KnownIds(db, "known_cards");
    this.cardRecords = db.collection<KnownCardDocument>("known_cards");
    this.persons = new KnownIds(db, "known_persons");
  }

  async ensureCollections(): Promise<void> {
    await this.cards.ensureCollection();
    await this.persons.ensureCollection();
  }

  /**
   * Records a card's status as announced by the cards subgraph (CardIssued, CardStatusChanged).
   * Events may arrive twice or out of order, so the note is one conditional update guarded by the
   * card's version: it applies only when newer than what is stored, and a replay or an older
   * event changes nothing. It upserts, so a note arriving before CardIssued makes the card known.
   * True when this note was applied. The card's holder is noted with it: the feed's events about
   * the card's password name the holder (a card never changes holder).
   */
  async noteCardStatus(
    cardId: string,
    status: string,
    cardVersion: number,
    personId?: string,
  ): Promise<boolean> {
    // Beside transactions, as KnownIds.add writes these records (transactions only read them).
    return beside(this.db, () =>
      setIfNewer(
        this.cardRecords,
        { _id: cardId },
        { $or: [{ cardVersion: { $lt: cardVersion } }, { cardVersion: { $exists: false } }] },
        { status, cardVersion, ...(personId ? { personId } : {}) },
      ),
    );
  }

  /**
   * A known card's last announced status (null: none announced yet) and holder (null: noted before
   * holders were); null for an unknown card.
   */
  async card(cardId: string, session?: ClientSession): Promise<KnownCard | null> {
    const doc = await this.cardRecords.findOne(
      { _id: cardId },
      { projection: { status: 1, personId: 1 }, session },
    );
    return doc ? { status: doc.status ?? null, personId: doc.personId ?? null } : null;
  }
}
