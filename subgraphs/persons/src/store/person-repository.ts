import { insertMissing, POLL } from "@hub/kit";
import type { Collection, Db, Document } from "mongodb";
import type { Person } from "../model/person.js";
import type { IdNumberDocument, PersonDocument } from "./person-document.js";

/** Documents map to API objects explicitly: stored fields never leak by accident. */
export function toPerson(doc: PersonDocument): Person {
  return { id: doc._id, idNumber: doc.idNumber, name: doc.name, phone: doc.phone };
}

/**
 * A registration's key bound to its input, in the kit's `idempotency_keys` (`_id` = the key,
 * swept after HUB_RETENTION_HOURS): the same key with another identity number is a CONFLICT,
 * which the identity number's document cannot tell. The answer itself is kept with the person.
 */
export interface RegistrationKeyDocument {
  _id: string;
  operation: string;
  fingerprint: string;
  result: Record<string, never>;
  createdAt: Date;
}

/** Persons read or backfilled per round trip when a start-up finds lookup documents missing. */
const BACKFILL_BATCH = 500;

/**
 * When a registration still pending began, by the outbox's clock: its PersonRegistered was
 * prepared (`enqueuedAt`) just before the lookup document was written. Not `pending.createdAt`,
 * the request's domain time, which a test clock sets; and present in lookups of earlier versions
 * too. Only pending lookups are in its index (a settled one has `pending: null`).
 */
const PENDING_SINCE = "pending.outgoing.enqueuedAt";
const PENDING = { [PENDING_SINCE]: { $gt: new Date(0) } };

/**
 * Persons, and the identity numbers that lead to them (the registration that writes them is
 * commands/register-person.ts). No unique secondary index: `persons` is sharded by `_id` and
 * `persons_by_id_number` by the identity number (its `_id`), and a sharded collection enforces
 * uniqueness only on its shard key (docs/scale.md "Shard keys").
 */
export class PersonRepository {
  readonly persons: Collection<PersonDocument>;
  readonly byIdNumber: Collection<IdNumberDocument>;
  readonly registrationKeys: Collection<RegistrationKeyDocument>;
  /** `persons` as the outbox knows it (it finds a carrier's address by this very object). */
  readonly carrier: Collection<Document>;

  constructor(readonly db: Db) {
    this.persons = db.collection<PersonDocument>("persons");
    this.byIdNumber = db.collection<IdNumberDocument>("persons_by_id_number");
    this.registrationKeys = db.collection<RegistrationKeyDocument>("idempotency_keys");
    this.carrier = this.persons as unknown as Collection<Document>;
  }

  /**
   * Creates the collections at start-up (the `_id` index, and the registration sweep's partial
   * index of pending lookups, normally empty). Databases of earlier versions keep their
   * `idNumber_unique` and `created_with_key` indexes until an operator drops them (after
   * `backfillIdNumbers`, before sharding): new documents never set `createdWithKey`, and the
   * identity number is already unique through its lookup document.
   */
  async ensureIndexes(): Promise<void> {
    await this.persons.createIndex({ _id: 1 });
    await this.byIdNumber.createIndex({ _id: 1 });
    // Multikey (one entry per receiver, all of one time); partial, so it holds only what the
    // sweep may have to do, and the sweep reads it whole rather than by both bounds.
    await this.byIdNumber.createIndex(
      { [PENDING_SINCE]: 1 },
      { name: "pending_registrations", partialFilterExpression: PENDING },
    );
  }

  async findByIds(ids: readonly string[]): Promise<Person[]> {
    const docs = await this.persons.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toPerson);
  }

  /**
   * Two targeted reads: the identity numbers' documents, then their persons. A number whose
   * registration is unfinished leads to no person yet (null, as an unknown number).
   */
  async findByIdNumbers(idNumbers: readonly string[]): Promise<Person[]> {
    const claims = await this.byIdNumber.find({ _id: { $in: [...idNumbers] } }).toArray();
    if (claims.length === 0) return [];
    return this.findByIds(claims.map((claim) => claim.personId));
  }

  /**
   * Lookups pending since `cutoff` or before (by the outbox's clock), oldest first, past the
   * first `skip` of them: the registration sweep's work.
   */
  async pendingSince(cutoff: Date, skip: number, limit: number): Promise<IdNumberDocument[]> {
    return (
      this.byIdNumber
        // Tagged as the relay's polling: counts of a request's own commands leave it out. Only
        // lookups a majority holds: one a failover rolls back must not have its person stored
        // and its event released by the sweep.
        .find(
          { [PENDING_SINCE]: { $gt: new Date(0), $lte: cutoff } },
          { comment: POLL, readConcern: { level: "majority" } },
        )
        .sort({ [PENDING_SINCE]: 1 })
        .skip(skip)
        .limit(limit)
        .toArray()
    );
  }

  /**
   * A lookup whose person can never be stored, because an index of an earlier version
   * (`idNumber_unique`) holds the number for a person without a lookup of its own: the lookup is
   * pointed at that person, as `backfillIdNumbers` would have written it, so no later sweep tries
   * it again. Its registration was refused (or crashed); nobody was told of the other id.
   */
  async pointAtHolder(claim: IdNumberDocument): Promise<boolean> {
    const holder = await this.persons.findOne({
      idNumber: claim._id,
      _id: { $ne: claim.personId },
    });
    if (!holder) return false;
    const repointed = await this.byIdNumber.updateOne(
      { _id: claim._id, personId: claim.personId },
      { $set: { personId: holder._id, pending: null } },
    );
    return repointed.modifiedCount === 1;
  }

  /** The person is written: the claim keeps only the way to it. */
  async settle(claim: IdNumberDocument): Promise<void> {
    await this.byIdNumber.updateOne(
      { _id: claim._id, personId: claim.personId },
      { $set: { pending: null } },
    );
  }

  /**
   * Writes the lookup document of persons stored before it existed (earlier versions, or persons
   * written by them during a rolling upgrade). Runs at start-up when the estimated counts say some
   * may be missing (every registration writes its lookup first, so normally there are at least as
   * many lookups as persons); idempotent, so an interrupted run simply runs again. Answers how
   * many it wrote.
   */
  async backfillIdNumbers(): Promise<number> {
    const [persons, lookups] = await Promise.all([
      this.persons.estimatedDocumentCount(),
      this.byIdNumber.estimatedDocumentCount(),
    ]);
    if (lookups >= persons) return 0;
    let written = 0;
    let after: string | null = null;
    for (;;) {
      const page: PersonDocument[] = await this.persons
        .find(after === null ? {} : { _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(BACKFILL_BATCH)
        .toArray();
      if (page.length === 0) return written;
      after = page[page.length - 1]!._id;
      const known = new Set(
        (await this.byIdNumber.find({ _id: { $in: page.map((p) => p.idNumber) } }).toArray()).map(
          (claim) => claim._id,
        ),
      );
      written += await insertMissing(
        this.byIdNumber,
        page
          .filter((p) => !known.has(p.idNumber))
          .map((p) => ({ _id: p.idNumber, personId: p._id })),
      );
    }
  }

  async ping(): Promise<boolean> {
    await this.persons.countDocuments({}, { limit: 1 });
    return true;
  }
}
