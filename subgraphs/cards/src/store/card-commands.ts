import { randomInt, randomUUID } from "node:crypto";
import {
  beside,
  changeOneDocument,
  documentKey,
  isDuplicateKeyError,
  recordFor,
  withKeyRecord,
  WRITE_ATTEMPTS,
  eventKey,
  faultPoint,
  HubError,
  runIdempotent,
  type Caller,
  type EffectScope,
  type NewEvent,
  type Outbox,
} from "@hub/kit";
import type { ClientSession } from "mongodb";
import { CARD_NUMBER_DRAWS, cardNumberKey, drawCardNumber } from "../rules/card-number.js";
import type { Fee } from "../rules/fee.js";
import { cardHeldInProvince } from "../rules/duplicates.js";
import { checkElectronicServicesOpen } from "../rules/electronic-card.js";
import {
  applyCommand,
  checkCommand,
  type CardCommand,
  type Transition,
} from "../rules/state-machine.js";
import { expiryFor } from "../rules/validity.js";
import type { CardDocument, CardEventDocument } from "./card-document.js";
import { toCardRecord, type CardRecord, type CardRepository } from "./card-repository.js";
import type { ClaimingPerson, PersonRegistry } from "./person-registry.js";

export interface CommandMeta {
  caller: Caller;
  now: Date;
  operation: string;
  idempotencyKey?: string | null;
  /** The input without its key, for idempotent replays. */
  input: unknown;
  agent?: { idNumber: string; name: string; powerOfAttorneyRef: string } | null;
  details?: Record<string, string | number | boolean>;
  /** Set when another subgraph's event causes the command: applied once per card. */
  eventId?: string;
  /** The request's (or received event's) effect scope: it waits for the events this commits. */
  effects: EffectScope | null;
}

/**
 * What a command answers, kept with its idempotency key: a replay answers the card as it was
 * after the first call (CONTRACT.md "Writes"), not as it is now.
 */
export interface CommandResult extends Record<string, unknown> {
  cardId: string;
  card: CardRecord;
  firstActivation?: boolean;
  newCard?: CardRecord;
  fee?: Fee;
}

const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, "").slice(0, 16)}`;

/** Changes kept inside a card; when more accrue, the oldest go to `card_history_buckets` in one write. */
export const HISTORY_KEPT = 64;
const HISTORY_ARCHIVED_AT_ONCE = 32;
/** Claims the sweep completes per batch, and batches per sweep (the rest wait for the next). */
const CLAIMS_PER_BATCH = 100;
const CLAIM_BATCHES_PER_SWEEP = 10;

/**
 * Runs card commands: load → state machine → store. A command on one card is one version-guarded
 * update of that card, carrying its history entry, its events and its idempotency record, with no
 * multi-document transaction; a lost race re-reads the card and checks the rules again. Issuing
 * and replacing write two documents and run in a transaction.
 */
export class CardCommands {
  constructor(
    private readonly repository: CardRepository,
    private readonly registry: PersonRegistry,
    private readonly outbox: Outbox,
    private readonly drawNumber: () => string = () => drawCardNumber(randomInt),
  ) {
    // Cards are addressed by their full planned shard key (docs/scale.md).
    outbox.carriedIn(repository.cardsAsCarrier, (card) => ({
      personId: card["personId"],
      _id: card["_id"],
    }));
  }

  /**
   * Issues a card without a multi-document transaction. The person's registry entry is the one
   * place two issues for one person meet: a version-guarded claim there records the new card
   * (carrying its CardIssued event) and the request's idempotency record; the card is inserted
   * after. Whoever finds a claim whose card is not stored yet (its writer stopped, or has not got
   * there) stores it first, so R-DUP-1 is always checked against every card being issued; and the
   * claim sweep (completeStrandedClaims) stores it when no later issue for the person comes.
   */
  async issue(
    meta: CommandMeta,
    plan: { personId: string; province: string; issuingBank: string; issuedAt: Date },
  ): Promise<CommandResult> {
    const key = documentKey(meta.caller.channel, meta.operation, meta.idempotencyKey, meta.input);
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const person = await this.registry.find(plan.personId);
      if (!person) throw new HubError("NOT_FOUND", "No registered person has this id.");
      if (person.issuing) {
        const claimed = person as ClaimingPerson;
        const stored = await this.storeClaimed(claimed, meta.effects);
        // Stored under another number: the claim and its request's record changed, read again.
        if (stored.number !== claimed.issuing.card.number) continue;
      }
      const earlier = recordFor(person.keys, key);
      if (earlier) {
        // Answered as the first call was: once its effects (maybe still on their way) are in.
        await this.outbox.follow(earlier.events, meta.effects);
        return earlier.result as CommandResult;
      }
      const held = cardHeldInProvince(
        (
          await this.repository.cards
            .find({ personId: plan.personId, province: plan.province })
            .toArray()
        ).map(toCardRecord),
        plan.province,
      );
      if (held) {
        // The card may be this very request's, sent twice at once: the other call's record wins.
        if (key && recordFor((await this.registry.find(plan.personId))?.keys, key)) continue;
        throw new HubError(
          "CONFLICT",
          `The person already holds the card ${held.id} (${held.status}) in province ${plan.province}: one card per province (R-DUP-1). To give them a new card, use replaceCard on it.`,
          { cardId: held.id, cardStatus: held.status, remedy: "replaceCard" },
        );
      }
      const card = this.newCard(
        meta,
        { ...plan, status: "ARCHIVED", replacesId: null },
        "ISSUED",
        await this.unusedNumber(plan.province),
      );
      const outgoing = this.outbox.prepare(this.issuedEvent(card, meta));
      const carrying: CardDocument = { ...card, ...this.outbox.carry({}, outgoing) };
      const result: CommandResult = { cardId: card._id, card: toCardRecord(card) };
      const claimed = await this.registry.claimIssue(person, {
        card: carrying,
        at: meta.now,
        keys: withKeyRecord(person.keys, key, result, meta.now, outgoing),
      });
      if (!claimed) continue;
      // A crash here leaves the card only inside the claim: the next issue for the person or the
      // claim sweep stores it.
      await faultPoint("after-issue-claim", { personId: plan.personId, cardId: card._id });
      const stored = await this.storeClaimed(
        {
          ...person,
          version: (person.version ?? 0) + 1,
          issuing: { card: carrying, at: meta.now },
          keys: withKeyRecord(person.keys, key, result, meta.now, outgoing),
        },
        meta.effects,
      );
      // Renumbered while storing (its number was taken in between): the answer shows the number
      // the card has, as the request's record (rewritten with the claim) does for a replay.
      return stored.number === card.number
        ? result
        : { ...result, card: { ...result.card, number: stored.number } };
    }
    throw new HubError(
      "CONFLICT",
      "The person's cards kept changing under concurrent requests; read them again and retry.",
    );
  }

  /**
   * Stores the card the person's claim holds unless it is stored already, and releases its
   * CardIssued (again, if its writer may not have got there: the outbox stores each event once).
   * The calling request waits for that event's delivery either way. Answers the stored card.
   *
   * The card's number is reserved in its province first (`card_numbers`). If another card has
   * taken it since it was drawn (a concurrent issue drew it too, or it was drawn long ago by a
   * writer that stopped after its claim), the claim is given a new number and stored with that,
   * rather than failing every later issue for the person. The claim is rewritten before the new
   * number is reserved, so a crash at any point leaves a claim that the next attempt finishes
   * with the same number: no reserved number is left without its card (but for a database that
   * still has the old nationwide unique index, see insertClaimed).
   *
   * Answers never show a number the card does not have: the issuing request answers only once
   * its card is stored, with the number it was stored with; its idempotency record (written with
   * the claim, holding the drawn number) is rewritten with the claim by renumberClaim, so a replay
   * answers the new number too. The caller of a request that stopped after its claim saw no
   * answer; its replay completes the claim first and then answers the record.
   */
  private async storeClaimed(
    person: ClaimingPerson,
    effects: EffectScope | null,
  ): Promise<CardDocument> {
    let claim = person;
    for (let attempt = 0; attempt < CARD_NUMBER_DRAWS; attempt++) {
      const card = claim.issuing.card;
      const found = await this.findStored(card);
      if (found) return this.releaseStored(found, card, effects);
      const writtenAt = performance.now();
      const stored = await this.insertClaimed(card);
      if (stored) return this.releaseStored(stored, card, effects, writtenAt);
      const number = await this.unusedNumber(card.province);
      if (await this.registry.renumberClaim(claim, number)) {
        claim = {
          ...claim,
          version: (claim.version ?? 0) + 1,
          issuing: { ...claim.issuing, card: { ...card, number } },
        };
        continue;
      }
      // Someone else changed the claim first: renumbered it (go on with theirs), or stored its
      // card and then cleared or replaced the claim (a claim never goes before its card is stored).
      const now = await this.registry.find(person._id);
      if (now?.issuing?.card._id === card._id) {
        claim = now as ClaimingPerson;
        continue;
      }
      const storedMeanwhile = await this.findStored(card);
      if (storedMeanwhile) return this.releaseStored(storedMeanwhile, card, effects);
      throw new Error(`the claim of card ${card._id} went without its card being stored`);
    }
    throw new HubError(
      "SERVICE_UNAVAILABLE",
      `The card ${person.issuing.card._id} claimed for this person could not be stored: ${CARD_NUMBER_DRAWS} numbers in a row were taken before it was. Try again.`,
    );
  }

  /** The card as stored, read by its full shard key. */
  private findStored(card: Pick<CardDocument, "_id" | "personId">): Promise<CardDocument | null> {
    return this.repository.cards.findOne({ personId: card.personId, _id: card._id });
  }

  /**
   * Reserves the claimed card's number and inserts the card: the card as stored (by this call or
   * a concurrent one), or null when its number is another card's.
   */
  private async insertClaimed(card: CardDocument): Promise<CardDocument | null> {
    if (!(await this.repository.reserveNumber(card.province, card.number, card._id))) return null;
    try {
      await beside(this.repository.db, () => this.repository.cards.insertOne(card));
      return card;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const stored = await this.findStored(card);
      if (stored) return stored;
      // Not this card's id: the old nationwide unique index on `cards.number` (databases created
      // before `card_numbers`) refused the number. Let it go again and draw another.
      await beside(this.repository.db, () =>
        this.repository.cardNumbers.deleteOne({
          _id: cardNumberKey(card.province, card.number),
          cardId: card._id,
        }),
      );
      return null;
    }
  }

  /**
   * Releases the CardIssued a stored card still carries, or follows it to its delivery.
   * `writtenAt` when this call stored the card: a writer that took long checks the outbox's sweep
   * has not released (and the relay delivered) them already.
   */
  private async releaseStored(
    stored: CardDocument,
    claimed: CardDocument,
    effects: EffectScope | null,
    writtenAt?: number,
  ): Promise<CardDocument> {
    if (stored.outgoing?.length)
      await this.outbox.release(this.repository.cardsAsCarrier, stored, effects, writtenAt);
    // Released by another request that found the claim: wait for them as if released here.
    else
      await this.outbox.follow(
        claimed.outgoing?.map((event) => event._id),
        effects,
      );
    return stored;
  }

  /**
   * Stores the cards of claims made more than `olderThanMs` ago whose writer stopped before
   * storing them (no later issue for the person came to do it), releasing their CardIssued, and
   * clears the claims whose card is stored: run by the relay's poll (Outbox.onSweep), like the outbox's
   * sweep of stranded events. Answers how many cards it stored. Safe beside writers that are only
   * slow: storing a claimed card is idempotent, and a claim is cleared only once its card is
   * stored. Throws the first failure once every claim of the sweep was tried.
   */
  async completeStrandedClaims(olderThanMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    let completed = 0;
    let failure: unknown = null;
    for (let batch = 0; batch < CLAIM_BATCHES_PER_SWEEP; batch++) {
      const claims = await this.registry.claimsBefore(cutoff, CLAIMS_PER_BATCH);
      for (const claim of claims) {
        try {
          if (!(await this.findStored(claim.issuing.card))) {
            const stored = await this.storeClaimed(claim, null);
            completed += 1;
            // Renumbered: the claim changed, the next sweep clears it.
            if (stored.number !== claim.issuing.card.number) continue;
          }
          await this.registry.clearClaim(claim);
        } catch (error) {
          failure ??= error;
        }
      }
      if (claims.length < CLAIMS_PER_BATCH || failure) break;
    }
    if (failure) throw failure;
    return completed;
  }

  async run(cardId: string, command: CardCommand, meta: CommandMeta): Promise<CommandResult> {
    checkCommand(command, meta.caller.channel, meta.now);
    if (command.kind !== "REPLACE") return this.applyToCard(cardId, command, meta);
    return runIdempotent({
      db: this.repository.db,
      channel: meta.caller.channel,
      key: meta.idempotencyKey,
      operation: meta.operation,
      input: meta.input,
      work: (session) => this.applyIn(session, cardId, command, meta),
    });
  }

  /**
   * A command that changes one card: one version-guarded update with its history entry, events
   * and idempotency record (also used for events from other subgraphs, keyed by event id).
   */
  async applyToCard(
    cardId: string,
    command: CardCommand,
    meta: CommandMeta,
  ): Promise<CommandResult> {
    return changeOneDocument<CardDocument, CommandResult>({
      collection: this.repository.cards,
      outbox: this.outbox,
      effects: meta.effects,
      filter: { _id: cardId },
      key: meta.eventId
        ? eventKey(meta.eventId)
        : documentKey(meta.caller.channel, meta.operation, meta.idempotencyKey, meta.input),
      now: meta.now,
      notFound: () => new HubError("NOT_FOUND", `No card has the id "${cardId}".`),
      decide: async (doc) => {
        const before = toCardRecord(doc);
        const transition = applyCommand(before, command, meta.caller.channel, meta.now);
        if (transition.replacement) throw new Error("a replacement writes two cards: use run()");
        if (command.kind === "ISSUE_ELECTRONIC_CARD")
          checkElectronicServicesOpen(
            await this.registry.electronicLockUntil(before.personId),
            meta.now,
          );
        const result: CommandResult = {
          cardId,
          card: before,
          firstActivation: transition.firstActivation,
        };
        if (!transition.change) return { result };
        result.card = { ...transition.card, number: before.number, version: before.version + 1 };
        const event = this.statusEvent(doc, transition, meta);
        return {
          result,
          set: await this.changeFields(doc, transition, meta, undefined),
          events: event ? [event] : [],
        };
      },
    });
  }

  /** Applies a command inside an existing transaction (a replacement: two cards change). */
  async applyIn(
    session: ClientSession,
    cardId: string,
    command: CardCommand,
    meta: CommandMeta,
  ): Promise<CommandResult> {
    const doc = await this.repository.cards.findOne({ _id: cardId }, { session });
    if (!doc) throw new HubError("NOT_FOUND", `No card has the id "${cardId}".`);
    const before = toCardRecord(doc);
    const transition = applyCommand(before, command, meta.caller.channel, meta.now);
    const result: CommandResult = {
      cardId,
      card: before,
      firstActivation: transition.firstActivation,
    };
    if (!transition.change) return result;
    if (transition.replacement) {
      const replacement = await this.insertCard(
        session,
        {
          ...meta,
          details: {
            ...meta.details,
            fee: transition.replacement.fee.amount,
            feeReason: transition.replacement.fee.reason,
          },
        },
        {
          personId: before.personId,
          province: before.province,
          issuingBank: before.issuingBank,
          issuedAt: meta.now,
          status: transition.replacement.startsAs,
          replacesId: before.id,
        },
        "ISSUED_AS_REPLACEMENT",
      );
      transition.card.replacedById = replacement._id;
      result.newCard = toCardRecord(replacement);
      result.fee = transition.replacement.fee;
    }
    await this.save(session, doc, transition, meta);
    result.card = { ...transition.card, number: before.number, version: before.version + 1 };
    return result;
  }

  /**
   * The card's change inside a transaction, addressed by its full shard key. Events the card
   * still carries (a single-document writer stopped before releasing them) go to the outbox in
   * the same transaction and the card stops carrying them: left in it, a later writer or the
   * stranded sweep would release them again after this version.
   */
  private async save(
    session: ClientSession,
    doc: CardDocument,
    transition: Transition,
    meta: CommandMeta,
  ): Promise<void> {
    const updated = await this.repository.cards.updateOne(
      { personId: doc.personId, _id: doc._id, version: doc.version },
      {
        $set: {
          ...(await this.changeFields(doc, transition, meta, session)),
          version: doc.version + 1,
          outgoing: [],
          outgoingSince: null,
        },
      },
      { session },
    );
    if (updated.matchedCount === 0)
      throw new HubError(
        "CONFLICT",
        "The card was changed by a concurrent request; read it again and retry.",
      );
    await this.outbox.releaseCarriedIn(session, doc.outgoing, meta.effects);
    const event = this.statusEvent(doc, transition, meta);
    if (event) await this.outbox.add(session, event, meta.effects);
  }

  /** The CardStatusChanged a transition announces (to the bank, which mirrors the card). */
  private statusEvent(
    doc: CardDocument,
    transition: Transition,
    meta: CommandMeta,
  ): NewEvent | null {
    const change = transition.change;
    if (!change || (change.fromStatus === change.toStatus && change.type !== "REPLACED"))
      return null;
    return {
      type: "CardStatusChanged",
      payload: {
        ...this.cardState(doc, change.toStatus, doc.version + 1),
        change: change.type,
        fromStatus: change.fromStatus,
      },
      actor: meta.caller.sub,
      channel: meta.caller.channel,
      occurredAt: meta.now,
    };
  }

  /** What a change sets on the card: its state and its history with the change added. */
  private async changeFields(
    doc: CardDocument,
    transition: Transition,
    meta: CommandMeta,
    session: ClientSession | undefined,
  ): Promise<Partial<CardDocument>> {
    const after = transition.card;
    const change = transition.change;
    return {
      status: after.status,
      collectedAt: after.collectedAt,
      socialFunction: after.socialFunction,
      electronicCard: after.electronicCard,
      replacedById: after.replacedById,
      updatedAt: meta.now,
      ...(await this.historyWith(
        doc,
        change && this.historyEntry(doc, meta, change.type, change.fromStatus, change.toStatus),
        session,
      )),
    };
  }

  /** The card's kept history with `entry` added, moving the oldest to `card_history_buckets` when full. */
  private async historyWith(
    doc: CardDocument,
    entry: ((seq: number) => CardEventDocument) | null,
    session: ClientSession | undefined,
  ): Promise<Pick<CardDocument, "history" | "archivedHistory">> {
    let archived = doc.archivedHistory ?? 0;
    let kept = doc.history;
    if (!kept) {
      // Stored before histories moved into the card: its changes so far are all archived.
      archived = await this.repository.events.countDocuments({ cardId: doc._id }, { session });
      kept = [];
    }
    if (!entry) return { history: kept, archivedHistory: archived };
    let history = [...kept, entry(archived + kept.length)];
    if (history.length > HISTORY_KEPT) {
      const moved = history.slice(0, HISTORY_ARCHIVED_AT_ONCE);
      await this.repository.archiveEvents(moved, session);
      history = history.slice(HISTORY_ARCHIVED_AT_ONCE);
      archived += moved.length;
    }
    return { history, archivedHistory: archived };
  }

  private historyEntry(
    doc: Pick<CardDocument, "_id">,
    meta: CommandMeta,
    type: CardEventDocument["type"],
    fromStatus: CardEventDocument["fromStatus"],
    toStatus: CardEventDocument["toStatus"],
  ): (seq: number) => CardEventDocument {
    return (seq) => ({
      // Deterministic: archiving an entry twice (a lost race, retried) stores it once.
      _id: `${doc._id}:${seq}`,
      cardId: doc._id,
      at: meta.now,
      seq,
      type,
      channel: meta.caller.channel,
      fromStatus,
      toStatus,
      actor: meta.caller.sub,
      agent: meta.agent ?? null,
      details: { ...(meta.details ?? {}), ...(meta.eventId ? { eventId: meta.eventId } : {}) },
    });
  }

  /** A new card as stored: its first history entry inside it, with `number` (drawn as unused). */
  private newCard(
    meta: CommandMeta,
    plan: {
      personId: string;
      province: string;
      issuingBank: string;
      issuedAt: Date;
      status: CardDocument["status"];
      replacesId: string | null;
    },
    type: CardEventDocument["type"],
    number: string,
  ): CardDocument {
    const id = newId("c");
    return {
      _id: id,
      personId: plan.personId,
      number,
      province: plan.province,
      issuingBank: plan.issuingBank,
      status: plan.status,
      issuedAt: plan.issuedAt,
      expiresAt: expiryFor(plan.issuedAt),
      collectedAt: plan.status === "NORMAL" ? meta.now : null,
      socialFunction:
        plan.status === "NORMAL"
          ? { enabled: true, enabledAt: meta.now, channel: meta.caller.channel }
          : { enabled: false, enabledAt: null, channel: null },
      electronicCard: null,
      replacesId: plan.replacesId,
      replacedById: null,
      bankAccountStatus: null,
      version: 1,
      updatedAt: meta.now,
      history: [this.historyEntry({ _id: id }, meta, type, null, plan.status)(0)],
      archivedHistory: 0,
      keys: [],
    };
  }

  /**
   * The card's absolute state at `version`, which every card event carries: receivers keep the
   * newest version they have seen, whatever order the events arrive in.
   */
  private cardState(
    card: Pick<CardDocument, "_id" | "personId" | "province" | "issuingBank" | "expiresAt">,
    status: string,
    version: number,
  ) {
    return {
      cardId: card._id,
      personId: card.personId,
      province: card.province,
      issuingBank: card.issuingBank,
      status,
      expiresAt: card.expiresAt.toISOString(),
      cardVersion: version,
    };
  }

  /** CardIssued: the bank opens the account, the passwords subgraph knows the card. */
  private issuedEvent(card: CardDocument, meta: CommandMeta): NewEvent {
    return {
      type: "CardIssued",
      payload: {
        ...this.cardState(card, card.status, card.version),
        replacesId: card.replacesId,
      },
      actor: meta.caller.sub,
      channel: meta.caller.channel,
      occurredAt: meta.now,
    };
  }

  /** A replacement card, inside the replacing transaction, its number reserved in the same. */
  private async insertCard(
    session: ClientSession,
    meta: CommandMeta,
    plan: Parameters<CardCommands["newCard"]>[1],
    type: CardEventDocument["type"],
  ): Promise<CardDocument> {
    const card = this.newCard(meta, plan, type, await this.unusedNumber(plan.province, session));
    await this.repository.reserveNumberIn(session, card.province, card.number, card._id);
    await this.repository.cards.insertOne(card, { session });
    await this.outbox.add(session, this.issuedEvent(card, meta), meta.effects);
    return card;
  }

  /**
   * A number no card has in `province` (R-CARD-9: a new card, a new number), checked against the
   * reservations before anything is written, with a bounded number of draws. Looked up rather
   * than caught as a duplicate key: on a MongoDB replica set a failed write aborts the whole
   * transaction (a replacement), so a retry inside it would fail. A number taken between this look
   * and its reservation is handled there (storeClaimed draws again; a transaction fails at the
   * reservation's `_id` rather than issuing it twice).
   */
  private async unusedNumber(province: string, session?: ClientSession): Promise<string> {
    for (let attempt = 0; attempt < CARD_NUMBER_DRAWS; attempt++) {
      const number = this.drawNumber();
      if (await this.repository.isNumberFree(province, number, session)) return number;
    }
    throw new HubError(
      "SERVICE_UNAVAILABLE",
      `${CARD_NUMBER_DRAWS} card numbers drawn in a row for province ${province} were all taken; nothing was issued. Try again.`,
      { province },
    );
  }
}
