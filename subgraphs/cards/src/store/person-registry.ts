import {
  beside,
  isDuplicateKeyError,
  KnownIds,
  POLL,
  untilMajorityShows,
  type Db,
  type KeyRecord,
} from "@hub/kit";
import type { ClientSession, Collection } from "mongodb";
import type { CardDocument } from "./card-document.js";

export interface KnownPerson {
  _id: string;
  /**
   * When the persons subgraph registered the person (PersonRegistered). Absent (or null) on an
   * entry that only mirrors a lock announced before the registration arrived (another lane): such
   * a person is not registered here yet.
   */
  at?: Date | null;
  lastIssueAt?: Date;
  /** Guards issuing (absent until the person's first card is issued here). */
  version?: number;
  /**
   * The card last issued to the person, as it is to be stored (see commands/issue-card.ts); cleared
   * by the claim sweep once that card is stored.
   */
  issuing?: { card: CardDocument; at: Date } | null;
  /** Idempotency records of the issues for this person. */
  keys?: KeyRecord[];
  /** Mirror of the passwords subgraph's lock of the person's electronic-card password (R-PWD-4). */
  electronicPasswordLockedUntil?: Date | null;
}

/** A registry entry with a claim whose card may not be stored yet. */
export type ClaimingPerson = KnownPerson & { issuing: { card: CardDocument; at: Date } };

/**
 * When a claim was written, by the wall clock: its card carries its CardIssued since then (the
 * outbox's `outgoingSince`, set when the claim was prepared). Not `issuing.at`, the request's
 * domain time, which a test clock or a back-dated issue sets. Only entries with a claim are in
 * its index (a cleared claim is null).
 */
const CLAIMED_SINCE = "issuing.card.outgoingSince";
const CLAIMED = { [CLAIMED_SINCE]: { $gt: new Date(0) } };

/**
 * The persons this subgraph may issue cards to: a projection fed by PersonRegistered events from
 * the persons subgraph, so issuing never reads another subgraph's database. It also mirrors the
 * lock of each person's electronic-card password (ElectronicPasswordLocked from passwords), which
 * may arrive first: an entry counts as registered only once it has its registration time `at`.
 *
 * Every write names the entry by `_id`, the planned shard key (docs/scale.md).
 */
export class PersonRegistry extends KnownIds {
  private readonly persons: Collection<KnownPerson>;

  constructor(db: Db) {
    super(db, "known_persons");
    this.persons = db.collection<KnownPerson>("known_persons");
  }

  override async ensureCollection(): Promise<void> {
    await super.ensureCollection();
    // The claim sweep's query (commands/claim-sweep.ts): partial, so it holds only the
    // few claims not yet cleared rather than every person ever issued a card.
    await this.persons.createIndex(
      { [CLAIMED_SINCE]: 1 },
      { name: "issue_claims", partialFilterExpression: CLAIMED },
    );
  }

  /**
   * The registered person, or null (not registered, or only a lock mirrored so far), as a
   * majority holds it: issuing answers a replay from its idempotency records and stores a claim it
   * finds, and neither may come from a write a failover then rolls back. A newer entry the
   * primary holds alone fails the issue's version guard, which reads again.
   */
  async find(personId: string): Promise<KnownPerson | null> {
    const person = await this.persons.findOne(
      { _id: personId },
      { readConcern: { level: "majority" } },
    );
    return person?.at ? person : null;
  }

  /**
   * Waits until a majority holds the entry as the primary has it now. After a version-guarded
   * write lost to another (`claimIssue`, `renumberClaim`): `find` reads as a majority holds it,
   * and while the winner's write is on the primary only it would answer the same old version
   * again, losing every retry to a write that is not lost at all (a false CONFLICT, or numbers
   * drawn for nothing). SERVICE_UNAVAILABLE when a majority never shows it (being rolled back).
   */
  async majorityCaughtUp(personId: string): Promise<void> {
    const local = await this.persons.findOne({ _id: personId }, { projection: { version: 1 } });
    if (local?.version === undefined) return;
    await untilMajorityShows(
      () =>
        this.persons.findOne(
          { _id: personId, version: { $gte: local.version } },
          { readConcern: { level: "majority" }, projection: { _id: 1 } },
        ),
      "The person's registry entry is being written elsewhere; retry shortly.",
    );
  }

  override async has(id: string, session?: ClientSession): Promise<boolean> {
    return (
      (await this.persons.countDocuments({ _id: id, at: { $ne: null } }, { session, limit: 1 })) > 0
    );
  }

  /** Seeding: as KnownIds, and entries that so far only mirror a lock get their registration. */
  override async addMissing(ids: Iterable<string>, at: Date): Promise<void> {
    const unique = [...new Set(ids)];
    await super.addMissing(unique, at);
    // One targeted write per entry (by `_id`, its shard key), matching only a lock-only entry.
    if (unique.length > 0)
      await this.persons.bulkWrite(
        unique.map((id) => ({
          updateOne: { filter: { _id: id, at: null }, update: { $set: { at } } },
        })),
        { ordered: false },
      );
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

  /**
   * Gives the claimed card another number (its own was taken before the card was stored), in
   * the claim and in the idempotency record of the request that issued it, so a replay answers
   * the number the card has. Guarded by the entry's version and the claim's card and number:
   * false when someone else changed the claim first (the caller reads it again).
   */
  async renumberClaim(person: ClaimingPerson, number: string): Promise<boolean> {
    const card = person.issuing.card;
    const keys = (person.keys ?? []).map((record) => {
      const result = record.result as { cardId?: unknown; card?: Record<string, unknown> };
      return result.cardId === card._id && result.card
        ? { ...record, result: { ...result, card: { ...result.card, number } } }
        : record;
    });
    const renumbered = await beside(this.persons.db, () =>
      this.persons.updateOne(
        {
          _id: person._id,
          version: person.version ?? { $exists: false },
          "issuing.card._id": card._id,
          "issuing.card.number": card.number,
        },
        // A new version: an issue that read the claim before claims again only after reading this.
        { $set: { "issuing.card.number": number, keys, version: (person.version ?? 0) + 1 } },
      ),
    );
    return renumbered.matchedCount > 0;
  }

  /**
   * Claims written before `cutoff` (wall clock) that are not cleared yet, oldest first (their
   * card may not be stored).
   */
  async claimsBefore(cutoff: Date, limit: number): Promise<ClaimingPerson[]> {
    return (
      (await this.persons
        // Tagged as the relay's polling: counts of a request's own commands leave it out. Only
        // claims a majority holds: one a failover rolls back must not have its card stored and
        // its CardIssued released by the sweep.
        .find(
          { [CLAIMED_SINCE]: { $gt: new Date(0), $lte: cutoff } },
          { comment: POLL, readConcern: { level: "majority" } },
        )
        .sort({ [CLAIMED_SINCE]: 1 })
        .limit(limit)
        .toArray()) as ClaimingPerson[]
    );
  }

  /**
   * Clears a claim whose card is stored. Not a version change: a concurrent issue's claim (it
   * stored this card first) replaces it anyway, and this write then matches nothing.
   */
  async clearClaim(person: ClaimingPerson): Promise<void> {
    await beside(this.persons.db, () =>
      this.persons.updateOne(
        {
          _id: person._id,
          version: person.version ?? { $exists: false },
          "issuing.card._id": person.issuing.card._id,
        },
        { $set: { issuing: null } },
        // Only the claim sweep clears claims: tagged as the relay's polling, as its read is.
        { comment: POLL },
      ),
    );
  }

  /** Until when the person's electronic-card services are locked, as last announced. */
  async electronicLockUntil(personId: string): Promise<Date | null> {
    return (await this.persons.findOne({ _id: personId }))?.electronicPasswordLockedUntil ?? null;
  }

  /** Demo data: a lock the passwords subgraph holds, mirrored here (idempotent). */
  async seedElectronicLock(personId: string, until: Date): Promise<void> {
    await this.noteElectronicLock(personId, until);
  }

  /**
   * Keeps the latest announced lock (the lock only lifts by itself, R-PWD-4, so the latest end is
   * the absolute state), whatever the order or duplication of its events: one conditional upsert,
   * so a lock announced before the person's registration is kept (and checked when issuing an
   * electronic card) rather than dropped.
   */
  async noteElectronicLock(personId: string, until: Date): Promise<void> {
    const later = (upsert: boolean) =>
      beside(this.persons.db, () =>
        this.persons.updateOne(
          {
            _id: personId,
            $or: [
              { electronicPasswordLockedUntil: { $lt: until } },
              // Missing or null (both match null).
              { electronicPasswordLockedUntil: null },
            ],
          },
          { $set: { electronicPasswordLockedUntil: until } },
          { upsert },
        ),
      );
    try {
      await later(true);
    } catch (error) {
      // The entry exists and its filter did not match: it holds this lock or a later one. Or it
      // was inserted between this upsert's look and its insert (concurrent upserts), so the
      // conditional update is tried once more on the entry now there.
      if (!isDuplicateKeyError(error)) throw error;
      await later(false);
    }
  }
}
