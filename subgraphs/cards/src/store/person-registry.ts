import { KnownIds, type Db } from "@hub/kit";
import type { ClientSession, Collection } from "mongodb";

interface KnownPerson {
  _id: string;
  at: Date;
  lastIssueAt?: Date;
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

  /**
   * Marks the person as having a card issued now, inside the issuing transaction; false when the
   * person is not known. The write makes concurrent issues for one person conflict.
   */
  async claim(personId: string, now: Date, session: ClientSession): Promise<boolean> {
    const claimed = await this.persons.updateOne(
      { _id: personId },
      { $set: { lastIssueAt: now } },
      { session },
    );
    return claimed.matchedCount > 0;
  }

  /** Until when the person's electronic-card services are locked, as last announced. */
  async electronicLockUntil(personId: string, session?: ClientSession): Promise<Date | null> {
    return (
      (await this.persons.findOne({ _id: personId }, { session }))?.electronicPasswordLockedUntil ??
      null
    );
  }

  /** Demo data: a lock the passwords subgraph holds, mirrored here (idempotent). */
  async seedElectronicLock(personId: string, until: Date): Promise<void> {
    await this.persons.updateOne(
      { _id: personId },
      { $set: { electronicPasswordLockedUntil: until } },
    );
  }

  /** Keeps the later of two announced locks: events may arrive out of order. */
  async noteElectronicLock(personId: string, until: Date, session?: ClientSession): Promise<void> {
    const known = await this.electronicLockUntil(personId, session);
    if (known && known.getTime() >= until.getTime()) return;
    await this.persons.updateOne(
      { _id: personId },
      { $set: { electronicPasswordLockedUntil: until } },
      { session },
    );
  }
}
