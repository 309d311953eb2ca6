import { beside, KnownIds, type Db, type KeyRecord } from "@hub/kit";
import type { Collection } from "mongodb";
import type { CardDocument } from "./card-document.js";

export interface KnownPerson {
  _id: string;
  at: Date;
  lastIssueAt?: Date;
  /** Guards issuing (absent until the person's first card is issued here). */
  version?: number;
  /** The card last issued to the person, as it is to be stored (see CardCommands.issue). */
  issuing?: { card: CardDocument; at: Date } | null;
  /** Idempotency records of the issues for this person. */
  keys?: KeyRecord[];
  /** Mirror of the passwords subgraph's lock of the person's electronic-card password (R-PWD-4). */
  electronicPasswordLockedUntil?: Date | null;
}

/**
 * The persons this subgraph may issue cards to: a projection fed by PersonRegistered events from
 * the persons subgraph, so issuing never reads another subgraph's database. It also mirrors the
 * lock of each person's electronic-card password (ElectronicPasswordLocked from passwords).
 */
export class PersonRegistry extends KnownIds {
  private readonly persons: Collection<KnownPerson>;

  constructor(db: Db) {
    super(db, "known_persons");
    this.persons = db.collection<KnownPerson>("known_persons");
  }

  async find(personId: string): Promise<KnownPerson | null> {
    return this.persons.findOne({ _id: personId });
  }

  /**
   * Records the card about to be issued to the person, guarded by the entry's version: two
   * issues for one person at once meet here and the later one reads again. False when it lost.
   */
  async claimIssue(
    person: KnownPerson,
    claim: { card: CardDocument; at: Date; keys: KeyRecord[] },
  ): Promise<boolean> {
    const claimed = await beside(this.persons.db, () =>
      this.persons.updateOne(
        { _id: person._id, version: person.version ?? { $exists: false } },
        {
          $set: {
            version: (person.version ?? 0) + 1,
            lastIssueAt: claim.at,
            issuing: { card: claim.card, at: claim.at },
            keys: claim.keys,
          },
        },
      ),
    );
    return claimed.matchedCount > 0;
  }

  /** Until when the person's electronic-card services are locked, as last announced. */
  async electronicLockUntil(personId: string): Promise<Date | null> {
    return (await this.persons.findOne({ _id: personId }))?.electronicPasswordLockedUntil ?? null;
  }

  /** Demo data: a lock the passwords subgraph holds, mirrored here (idempotent). */
  async seedElectronicLock(personId: string, until: Date): Promise<void> {
    await this.persons.updateOne(
      { _id: personId },
      { $set: { electronicPasswordLockedUntil: until } },
    );
  }

  /** Keeps the later of two announced locks: events may arrive out of order. */
  async noteElectronicLock(personId: string, until: Date): Promise<void> {
    const known = await this.electronicLockUntil(personId);
    if (known && known.getTime() >= until.getTime()) return;
    await this.persons.updateOne(
      { _id: personId },
      { $set: { electronicPasswordLockedUntil: until } },
    );
  }
}
