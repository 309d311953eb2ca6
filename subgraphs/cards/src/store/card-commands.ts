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
  HubError,
  runIdempotent,
  type Caller,
  type EffectScope,
  type NewEvent,
  type Outbox,
} from "@hub/kit";
import type { ClientSession } from "mongodb";
import { drawCardNumber } from "../rules/card-number.js";
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
import type { PersonRegistry } from "./person-registry.js";

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

/** Changes kept inside a card; when more accrue, the oldest go to `card_events` in one write. */
export const HISTORY_KEPT = 64;
const HISTORY_ARCHIVED_AT_ONCE = 32;

/** Who mirrors a card's status. */
const STATUS_READERS = ["bank-accounts"];
/** Who learns of a new card. */
const CARD_READERS = ["bank-accounts", "passwords"];

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
    outbox.carriedIn(repository.cardsAsCarrier);
  }

  /**
   * Issues a card without a multi-document transaction. The person's registry entry is the one
   * place two issues for one person meet: a version-guarded claim there records the new card
   * (carrying its CardIssued event) and the request's idempotency record; the card is inserted
   * after. Whoever finds a claim whose card is not stored yet (its writer stopped, or has not got
   * there) stores it first, so R-DUP-1 is always checked against every card being issued.
   */
  async issue(
    meta: CommandMeta,
    plan: { personId: string; province: string; issuingBank: string; issuedAt: Date },
  ): Promise<CommandResult> {
    const key = documentKey(meta.caller.channel, meta.operation, meta.idempotencyKey, meta.input);
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const person = await this.registry.find(plan.personId);
      if (!person) throw new HubError("NOT_FOUND", "No registered person has this id.");
      if (person.issuing) await this.storeClaimed(person.issuing.card, meta.effects);
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
      const card = await this.newCard(
        undefined,
        meta,
        { ...plan, status: "ARCHIVED", replacesId: null },
        "ISSUED",
      );
      const outgoing = this.outbox.prepare(this.issuedEvent(card, meta), CARD_READERS);
      const carrying: CardDocument = { ...card, ...this.outbox.carry({}, outgoing) };
      const result: CommandResult = { cardId: card._id, card: toCardRecord(card) };
      const claimed = await this.registry.claimIssue(person, {
        card: carrying,
        at: meta.now,
        keys: withKeyRecord(person.keys, key, result, meta.now, outgoing),
      });
      if (!claimed) continue;
      await this.storeClaimed(carrying, meta.effects);
      return result;
    }
    throw new HubError(
      "CONFLICT",
      "The person's cards kept changing under concurrent requests; read them again and retry.",
    );
  }

  /**
   * Stores a claimed card unless it is stored already, and releases its CardIssued (again, if its
   * writer may not have got there: the outbox stores each event once). The calling request waits
   * for that event's delivery either way.
   */
  private async storeClaimed(card: CardDocument, effects: EffectScope | null): Promise<void> {
    let stored = await this.repository.cards.findOne({ _id: card._id });
    if (!stored) {
      try {
        await beside(this.repository.db, () => this.repository.cards.insertOne(card));
        stored = card;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        stored = await this.repository.cards.findOne({ _id: card._id });
        if (!stored) throw error;
      }
    }
    if (stored.outgoing?.length)
      await this.outbox.release(
        this.repository.cardsAsCarrier,
        stored._id,
        stored.version,
        stored.outgoing,
        effects,
      );
    // Released by another request that found the claim: wait for them as if released here.
    else
      await this.outbox.follow(
        card.outgoing?.map((event) => event._id),
        effects,
      );
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
          events: event ? [{ event, destinations: STATUS_READERS }] : [],
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

  private async save(
    session: ClientSession,
    doc: CardDocument,
    transition: Transition,
    meta: CommandMeta,
  ): Promise<void> {
    const updated = await this.repository.cards.updateOne(
      { _id: doc._id, version: doc.version },
      {
        $set: {
          ...(await this.changeFields(doc, transition, meta, session)),
          version: doc.version + 1,
        },
      },
      { session },
    );
    if (updated.matchedCount === 0)
      throw new HubError(
        "CONFLICT",
        "The card was changed by a concurrent request; read it again and retry.",
      );
    const event = this.statusEvent(doc, transition, meta);
    if (event) await this.outbox.add(session, event, STATUS_READERS, meta.effects);
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
        cardId: doc._id,
        change: change.type,
        fromStatus: change.fromStatus,
        toStatus: change.toStatus,
        // Receivers apply only what is newer than what they have (several replicas may
        // enqueue a card's changes with clocks that disagree).
        cardVersion: doc.version + 1,
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

  /** The card's kept history with `entry` added, moving the oldest to `card_events` when full. */
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

  /** A new card as stored: its first history entry inside it, its number drawn. */
  private async newCard(
    session: ClientSession | undefined,
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
  ): Promise<CardDocument> {
    const id = newId("c");
    return {
      _id: id,
      personId: plan.personId,
      number: await this.unusedNumber(session),
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

  /** CardIssued: the bank opens the account, the passwords subgraph knows the card. */
  private issuedEvent(card: CardDocument, meta: CommandMeta): NewEvent {
    return {
      type: "CardIssued",
      payload: {
        cardId: card._id,
        personId: card.personId,
        issuingBank: card.issuingBank,
        status: card.status,
        expiresAt: card.expiresAt.toISOString(),
        cardVersion: card.version,
      },
      actor: meta.caller.sub,
      channel: meta.caller.channel,
      occurredAt: meta.now,
    };
  }

  /** A replacement card, inside the replacing transaction. */
  private async insertCard(
    session: ClientSession,
    meta: CommandMeta,
    plan: Parameters<CardCommands["newCard"]>[2],
    type: CardEventDocument["type"],
  ): Promise<CardDocument> {
    const card = await this.newCard(session, meta, plan, type);
    await this.repository.cards.insertOne(card, { session });
    await this.outbox.add(session, this.issuedEvent(card, meta), CARD_READERS, meta.effects);
    return card;
  }

  /**
   * A card number no card has. Looked up before inserting rather than caught as a duplicate key
   * after: on a MongoDB replica set a failed write aborts the whole transaction, so a retry inside
   * it would fail. Two transactions drawing the same number at the same moment (odds ~1 in 2.4e9)
   * still meet at the unique index: the later one fails instead of issuing a second card with it.
   */
  private async unusedNumber(session: ClientSession | undefined): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const number = this.drawNumber();
      const taken = await this.repository.cards.countDocuments({ number }, { session, limit: 1 });
      if (taken === 0) return number;
    }
    throw new Error("Five card numbers drawn in a row were all taken.");
  }
}
