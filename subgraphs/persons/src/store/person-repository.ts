import { randomUUID } from "node:crypto";
import {
  faultPoint,
  HubError,
  insertMissing,
  isDuplicateKeyError,
  POLL,
  recordFor,
  replayOf,
  withKeyRecord,
  type Caller,
  type DocumentKey,
  type EffectScope,
  type Outbox,
} from "@hub/kit";
import type { Collection, Db, Document } from "mongodb";
import type { Person } from "../model/person.js";
import type { IdNumberDocument, PersonDocument } from "./person-document.js";

/** Documents map to API objects explicitly: stored fields never leak by accident. */
export function toPerson(doc: PersonDocument): Person {
  return { id: doc._id, idNumber: doc.idNumber, name: doc.name, phone: doc.phone };
}

/** The answer to a second registration of one identity number. */
export function alreadyRegistered(): HubError {
  return new HubError("CONFLICT", "A person with this identity number is already registered.");
}

/**
 * A registration's key bound to its input, in the kit's `idempotency_keys` (`_id` = the key,
 * swept after HUB_RETENTION_HOURS): the same key with another identity number is a CONFLICT,
 * which the identity number's document cannot tell. The answer itself is kept with the person.
 */
interface RegistrationKeyDocument {
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

/** Stranded registrations read per round trip, and round trips per sweep (the rest wait a poll). */
const STRANDED_PER_BATCH = 100;
const STRANDED_BATCHES_PER_SWEEP = 10;

/**
 * Persons, and the identity numbers that lead to them. No unique secondary index: `persons` is
 * sharded by `_id` and `persons_by_id_number` by the identity number (its `_id`), and a sharded
 * collection enforces uniqueness only on its shard key (docs/scale.md "Shard keys").
 */
export class PersonRepository {
  readonly persons: Collection<PersonDocument>;
  readonly byIdNumber: Collection<IdNumberDocument>;
  private readonly registrationKeys: Collection<RegistrationKeyDocument>;
  /** `persons` as the outbox knows it (it finds a carrier's address by this very object). */
  private readonly carrier: Collection<Document>;

  constructor(
    readonly db: Db,
    private readonly outbox?: Outbox,
  ) {
    this.persons = db.collection<PersonDocument>("persons");
    this.byIdNumber = db.collection<IdNumberDocument>("persons_by_id_number");
    this.registrationKeys = db.collection<RegistrationKeyDocument>("idempotency_keys");
    this.carrier = this.persons as unknown as Collection<Document>;
    outbox?.carriedIn(this.carrier);
    // Registrations whose writer stopped between the lookup and the person, and that no later
    // registration of the number came to finish: the relay's poll completes them. Stranded at the
    // outbox's age: a writer that is only slow finishes first, and completing twice is harmless.
    outbox?.onSweep("registrations", (olderThanMs) =>
      this.completeStrandedRegistrations(olderThanMs),
    );
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
   * Registers a person in two single-document writes, each atomic, no transaction:
   * 1. the identity number's document (its insert is the uniqueness check), holding everything the
   *    registration writes next, PersonRegistered event ids and idempotency record included;
   * 2. the person, carrying that event until the outbox has it (and the idempotency record).
   * Whoever finds the number claimed (a replay, a concurrent request, another registration) first
   * completes step 2 from the claim, so a registration whose writer stopped in between is finished
   * and its event released; then a replay answers the first person and anything else is CONFLICT.
   * When nobody comes, the relay's sweep completes it (completeStrandedRegistrations).
   */
  async register(
    person: { idNumber: string; name: string; phone: string | null },
    now: Date,
    caller: Caller,
    key: DocumentKey | null,
    effects: EffectScope | null,
  ): Promise<string> {
    const outbox = this.requireOutbox();
    // The sweep counts a registration's age from its event's enqueuedAt, set just below: the
    // release measures this writer's delay from here too.
    const startedAt = performance.now();
    if (key) await this.bindKey(key);
    const personId = `p_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    const outgoing = outbox.prepare({
      type: "PersonRegistered",
      payload: { personId },
      actor: caller.sub,
      channel: caller.channel,
      occurredAt: now,
    });
    const claim: IdNumberDocument = {
      _id: person.idNumber,
      personId,
      pending: {
        name: person.name,
        phone: person.phone,
        createdAt: now,
        createdWith: key ? (withKeyRecord([], key, { personId }, now, outgoing)[0] ?? null) : null,
        outgoing,
      },
    };
    try {
      await this.byIdNumber.insertOne(claim);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return this.registeredBefore(person.idNumber, key, effects);
    }
    // A crash here leaves the lookup pending: the next registration of the number, or the sweep
    // (completeStrandedRegistrations), completes it.
    await faultPoint("after-id-number-claim", { idNumber: claim._id, personId });
    await this.complete(claim, effects, startedAt);
    return personId;
  }

  /** The number was claimed before: finish that registration, then replay it or refuse. */
  private async registeredBefore(
    idNumber: string,
    key: DocumentKey | null,
    effects: EffectScope | null,
  ): Promise<string> {
    // Claims are never deleted: the duplicate key means this one is there.
    const claim = await this.byIdNumber.findOne({ _id: idNumber });
    if (!claim) throw new Error(`identity number claim vanished after a duplicate key`);
    const registered = await this.complete(claim, effects);
    // The same key with other input is a CONFLICT here too (recordFor); another key is a second
    // registration.
    const record = recordFor(registered.createdWith ? [registered.createdWith] : [], key);
    if (!record) throw alreadyRegistered();
    return claim.personId;
  }

  /**
   * Makes sure the claim's person is written and its PersonRegistered event released (or on its
   * way, then `effects` waits for it, as it would have for the first call); answers the person.
   * Idempotent and safe to race: the person's `_id` admits one insert, and every writer carries
   * the same event ids, which the outbox stores once. `startedAt` (performance.now()) is the
   * registration's own start: a writer that took long checks that the sweep has not released,
   * and the relay delivered, its event already before storing it again.
   */
  private async complete(
    claim: IdNumberDocument,
    effects: EffectScope | null,
    startedAt?: number,
  ): Promise<PersonDocument> {
    const outbox = this.requireOutbox();
    const { carrier } = this;
    const pending = claim.pending;
    if (pending) {
      const doc: PersonDocument = {
        _id: claim.personId,
        idNumber: claim._id,
        name: pending.name,
        phone: pending.phone,
        createdAt: pending.createdAt,
        version: 1,
        ...(pending.createdWith ? { createdWith: pending.createdWith } : {}),
        ...outbox.carry({}, pending.outgoing),
      };
      let inserted = true;
      try {
        await this.persons.insertOne(doc);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        inserted = false;
      }
      if (inserted) {
        await outbox.release(carrier, { ...doc, version: 1 }, effects, startedAt);
        await this.settle(claim);
        return doc;
      }
    }
    const stored = await this.persons.findOne({ _id: claim.personId });
    // Not there after a duplicate key: an index of an earlier version (`idNumber_unique`) holds
    // the number for a person whose lookup document is missing (see backfillIdNumbers).
    if (!stored) throw alreadyRegistered();
    // Its writer stopped before releasing the event, or is releasing it now (the outbox stores
    // each id once); otherwise the event is in the outbox or delivered, and is followed there.
    if (stored.outgoing?.length)
      await outbox.release(carrier, { ...stored, version: stored.version ?? 1 }, effects);
    else
      await outbox.follow(
        pending ? pending.outgoing.map((doc) => doc._id) : stored.createdWith?.events,
        effects,
      );
    if (pending) await this.settle(claim);
    return stored;
  }

  /**
   * Completes the registrations whose lookup has been pending for `olderThanMs` (outbox clock),
   * exactly as a later registration of the number would (`complete`): the person stored if it is
   * not, its PersonRegistered released, the lookup settled. Run by the relay's poll
   * (Outbox.onSweep). Answers how many it completed; throws the first failure once every lookup
   * of the sweep was tried.
   */
  async completeStrandedRegistrations(olderThanMs: number): Promise<number> {
    // By the clock the outbox stamped `enqueuedAt` with (the database's): another replica's
    // relay judges a registration stranded by the same time as this one.
    const cutoff = new Date(this.requireOutbox().clock.nowMs() - olderThanMs);
    let completed = 0;
    let failure: unknown = null;
    let failed = 0;
    for (let batch = 0; batch < STRANDED_BATCHES_PER_SWEEP; batch++) {
      const stranded = await this.byIdNumber
        // Tagged as the relay's polling: counts of a request's own commands leave it out.
        .find({ [PENDING_SINCE]: { $gt: new Date(0), $lte: cutoff } }, { comment: POLL })
        .sort({ [PENDING_SINCE]: 1 })
        // Completed lookups leave the query; those that failed stay at its head: past them, so
        // a lookup that keeps failing does not hide those after it.
        .skip(failed)
        .limit(STRANDED_PER_BATCH)
        .toArray();
      for (const claim of stranded) {
        try {
          // Nobody waits: the writer's request is gone.
          await this.complete(claim, null);
          completed += 1;
        } catch (error) {
          // Only an earlier version's unique index refuses a person this way (CONFLICT): it is
          // there to answer the lookup for the holder, so the query below is an indexed one.
          const refused = error instanceof HubError && error.code === "CONFLICT";
          if (refused && (await this.pointAtHolder(claim))) completed += 1;
          else {
            failure ??= error;
            failed += 1;
          }
        }
      }
      if (stranded.length < STRANDED_PER_BATCH) break;
    }
    if (failure) throw failure;
    return completed;
  }

  /**
   * A lookup whose person can never be stored, because an index of an earlier version
   * (`idNumber_unique`) holds the number for a person without a lookup of its own: the lookup is
   * pointed at that person, as `backfillIdNumbers` would have written it, so no later sweep tries
   * it again. Its registration was refused (or crashed); nobody was told of the other id.
   */
  private async pointAtHolder(claim: IdNumberDocument): Promise<boolean> {
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
  private async settle(claim: IdNumberDocument): Promise<void> {
    await this.byIdNumber.updateOne(
      { _id: claim._id, personId: claim.personId },
      { $set: { pending: null } },
    );
  }

  /** Binds a registration key to its input; the same key with other input is a CONFLICT. */
  private async bindKey(key: DocumentKey): Promise<void> {
    try {
      await this.registrationKeys.insertOne({
        _id: key.id,
        operation: key.operation,
        fingerprint: key.fingerprint,
        result: {},
        // Wall-clock time, as the retention sweep measures it (not the request's clock).
        createdAt: new Date(),
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const bound = await this.registrationKeys.findOne({ _id: key.id });
      replayOf(bound, key.fingerprint, key.key, key.operation);
    }
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

  private requireOutbox(): Outbox {
    if (!this.outbox) throw new Error("registering needs the outbox");
    return this.outbox;
  }
}
