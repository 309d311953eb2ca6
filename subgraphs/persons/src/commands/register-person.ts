import { randomUUID } from "node:crypto";
import {
  faultPoint,
  HubError,
  isDuplicateKeyError,
  recordFor,
  replayOf,
  untilMajorityShows,
  withKeyRecord,
  type Caller,
  type DocumentKey,
  type EffectScope,
  type Outbox,
} from "@hub/kit";
import type { IdNumberDocument, PersonDocument } from "../store/person-document.js";
import type { PersonRepository } from "../store/person-repository.js";

/** The answer to a second registration of one identity number. */
export function alreadyRegistered(): HubError {
  return new HubError("CONFLICT", "A person with this identity number is already registered.");
}

/** Stranded registrations read per round trip, and round trips per sweep (the rest wait a poll). */
const STRANDED_PER_BATCH = 100;
const STRANDED_BATCHES_PER_SWEEP = 10;

/**
 * registerPerson, the persons subgraph's one command: two single-document writes (the identity
 * number's lookup, then the person carrying its PersonRegistered event), and the completion of
 * registrations whose writer stopped between them.
 */
export class PersonRegistration {
  constructor(
    private readonly persons: PersonRepository,
    private readonly outbox: Outbox,
  ) {
    outbox.carriedIn(persons.carrier);
    // Registrations whose writer stopped between the lookup and the person, and that no later
    // registration of the number came to finish: the relay's poll completes them. Stranded at the
    // outbox's age: a writer that is only slow finishes first, and completing twice is harmless.
    outbox.onSweep("registrations", (olderThanMs) =>
      this.completeStrandedRegistrations(olderThanMs),
    );
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
    const { outbox } = this;
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
      await this.persons.byIdNumber.insertOne(claim);
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
    const claim = await this.durableClaim(idNumber);
    const registered = await this.complete(claim, effects);
    // The same key with other input is a CONFLICT here too (recordFor); another key is a second
    // registration.
    const record = recordFor(registered.createdWith ? [registered.createdWith] : [], key);
    if (!record) throw alreadyRegistered();
    return claim.personId;
  }

  /**
   * The claim that refused this registration, once a majority holds it. The duplicate key is the
   * primary's own data: a claim another request has just written may not be replicated yet, and a
   * failover would roll it back; answering CONFLICT or a replay from it would tell the caller of a
   * registration that then does not exist. Claims are never deleted, so a durable one stays. A
   * claim that a majority does not hold after a few reads is being written or rolled back: the
   * caller retries (SERVICE_UNAVAILABLE is retryable).
   */
  private durableClaim(idNumber: string): Promise<IdNumberDocument> {
    return untilMajorityShows(
      () =>
        this.persons.byIdNumber.findOne({ _id: idNumber }, { readConcern: { level: "majority" } }),
      "A registration of this identity number is being written elsewhere; retry shortly.",
    );
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
    const { outbox } = this;
    const { carrier } = this.persons;
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
        await this.persons.persons.insertOne(doc);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        inserted = false;
      }
      if (inserted) {
        await outbox.release(carrier, { ...doc, version: 1 }, effects, startedAt);
        await this.persons.settle(claim);
        return doc;
      }
    }
    // As a majority holds it: the claim is settled, and a replay answered, from this read.
    const stored = await this.durablePerson(claim.personId);
    // Not there after a duplicate key: an index of an earlier version (`idNumber_unique`) holds
    // the number for a person whose lookup document is missing (see backfillIdNumbers).
    if (!stored) throw alreadyRegistered();
    // Its writer stopped before releasing the event, or is releasing it now (the outbox stores
    // each id once); otherwise the event is in the outbox or delivered, and is followed there.
    // Released as a majority holds the person: a local read may see an insert a failover then
    // rolls back (Outbox.releaseCommitted).
    if (stored.outgoing?.length) await outbox.releaseCommitted(carrier, stored, effects);
    else
      await outbox.follow(
        pending ? pending.outgoing.map((doc) => doc._id) : stored.createdWith?.events,
        effects,
      );
    if (pending) await this.persons.settle(claim);
    return stored;
  }

  /**
   * The claim's person as a majority holds it, or null when not even the primary has it. A person
   * another writer has just inserted may be on the primary alone: settling its claim from that
   * (clearing `pending`) and a failover rolling the person back would leave the number claimed for
   * a person that does not exist, its PersonRegistered never sent, and nothing left to complete
   * it. One the primary shows and a majority does not after a few reads is being written or
   * rolled back: the caller retries (SERVICE_UNAVAILABLE is retryable), the sweep on its next poll.
   */
  private durablePerson(personId: string): Promise<PersonDocument | null> {
    const { persons } = this.persons;
    return untilMajorityShows(
      () => persons.findOne({ _id: personId }, { readConcern: { level: "majority" } }),
      "This identity number's registration is being written elsewhere; retry shortly.",
      { absent: async () => !(await persons.findOne({ _id: personId })) },
    );
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
    const cutoff = new Date(this.outbox.clock.nowMs() - olderThanMs);
    let completed = 0;
    let failure: unknown = null;
    let failed = 0;
    for (let batch = 0; batch < STRANDED_BATCHES_PER_SWEEP; batch++) {
      // Completed lookups leave the query; those that failed stay at its head: past them, so a
      // lookup that keeps failing does not hide those after it.
      const stranded = await this.persons.pendingSince(cutoff, failed, STRANDED_PER_BATCH);
      for (const claim of stranded) {
        try {
          // Nobody waits: the writer's request is gone.
          await this.complete(claim, null);
          completed += 1;
        } catch (error) {
          // Only an earlier version's unique index refuses a person this way (CONFLICT): it is
          // there to answer the lookup for the holder, so the query below is an indexed one.
          const refused = error instanceof HubError && error.code === "CONFLICT";
          if (refused && (await this.persons.pointAtHolder(claim))) completed += 1;
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

  /** Binds a registration key to its input; the same key with other input is a CONFLICT. */
  private async bindKey(key: DocumentKey): Promise<void> {
    try {
      await this.persons.registrationKeys.insertOne({
        _id: key.id,
        operation: key.operation,
        fingerprint: key.fingerprint,
        result: {},
        // Wall-clock time, as the retention sweep measures it (not the request's clock).
        createdAt: new Date(),
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const bound = await this.persons.registrationKeys.findOne({ _id: key.id });
      replayOf(bound, key.fingerprint, key.key, key.operation);
    }
  }
}
