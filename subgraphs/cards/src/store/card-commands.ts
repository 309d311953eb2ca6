import { randomInt, randomUUID } from "node:crypto";
import { HubError, runIdempotent, type Caller, type Outbox } from "@hub/kit";
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

/**
 * Runs card commands: load → state machine → store, in one transaction with the card's events
 * and the outbox. Every update is guarded by the card's version (optimistic concurrency).
 */
export class CardCommands {
  constructor(
    private readonly repository: CardRepository,
    private readonly registry: PersonRegistry,
    private readonly outbox: Outbox,
    private readonly drawNumber: () => string = () => drawCardNumber(randomInt),
  ) {}

  async issue(
    meta: CommandMeta,
    plan: { personId: string; province: string; issuingBank: string; issuedAt: Date },
  ): Promise<CommandResult> {
    return runIdempotent({
      db: this.repository.db,
      channel: meta.caller.channel,
      key: meta.idempotencyKey,
      operation: meta.operation,
      input: meta.input,
      work: async (session) => {
        // Written, not only read: two issues for one person at once conflict on this document
        // (on a replica set the later transaction retries and then sees the first card).
        if (!(await this.registry.claim(plan.personId, meta.now, session)))
          throw new HubError("NOT_FOUND", "No registered person has this id.");
        const held = cardHeldInProvince(
          (
            await this.repository.cards
              .find({ personId: plan.personId, province: plan.province }, { session })
              .toArray()
          ).map(toCardRecord),
          plan.province,
        );
        if (held)
          throw new HubError(
            "CONFLICT",
            `The person already holds the card ${held.id} (${held.status}) in province ${plan.province}: one card per province (R-DUP-1). To give them a new card, use replaceCard on it.`,
            { cardId: held.id, cardStatus: held.status, remedy: "replaceCard" },
          );
        const card = await this.insertCard(
          session,
          meta,
          { ...plan, status: "ARCHIVED", replacesId: null },
          "ISSUED",
        );
        return { cardId: card._id, card: toCardRecord(card) };
      },
    });
  }

  async run(cardId: string, command: CardCommand, meta: CommandMeta): Promise<CommandResult> {
    checkCommand(command, meta.caller.channel, meta.now);
    return runIdempotent({
      db: this.repository.db,
      channel: meta.caller.channel,
      key: meta.idempotencyKey,
      operation: meta.operation,
      input: meta.input,
      work: (session) => this.applyIn(session, cardId, command, meta),
    });
  }

  /** Applies a command inside an existing transaction (also used for events from other subgraphs). */
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
    if (command.kind === "ISSUE_ELECTRONIC_CARD")
      checkElectronicServicesOpen(
        await this.registry.electronicLockUntil(before.personId, session),
        meta.now,
      );
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
    await this.save(session, before, transition, meta);
    result.card = { ...transition.card, number: before.number, version: before.version + 1 };
    return result;
  }

  private async save(
    session: ClientSession,
    before: CardRecord,
    transition: Transition,
    meta: CommandMeta,
  ): Promise<void> {
    const after = transition.card;
    const updated = await this.repository.cards.updateOne(
      { _id: before.id, version: before.version },
      {
        $set: {
          status: after.status,
          collectedAt: after.collectedAt,
          socialFunction: after.socialFunction,
          electronicCard: after.electronicCard,
          replacedById: after.replacedById,
          updatedAt: meta.now,
        },
        $inc: { version: 1 },
      },
      { session },
    );
    if (updated.matchedCount === 0)
      throw new HubError(
        "CONFLICT",
        "The card was changed by a concurrent request; read it again and retry.",
      );
    const change = transition.change;
    if (!change) return;
    await this.recordEvent(
      session,
      before.id,
      meta,
      change.type,
      change.fromStatus,
      change.toStatus,
    );
    if (change.fromStatus !== change.toStatus || change.type === "REPLACED") {
      await this.outbox.add(
        session,
        {
          type: "CardStatusChanged",
          payload: {
            cardId: before.id,
            change: change.type,
            fromStatus: change.fromStatus,
            toStatus: change.toStatus,
            // Receivers apply only what is newer than what they have (several replicas may
            // enqueue a card's changes with clocks that disagree).
            cardVersion: before.version + 1,
          },
          actor: meta.caller.sub,
          channel: meta.caller.channel,
          occurredAt: meta.now,
        },
        ["bank-accounts"],
      );
    }
  }

  private async insertCard(
    session: ClientSession,
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
    const card: CardDocument = {
      _id: newId("c"),
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
    };
    await this.repository.cards.insertOne(card, { session });
    await this.recordEvent(session, card._id, meta, type, null, card.status);
    await this.outbox.add(
      session,
      {
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
      },
      ["bank-accounts", "passwords"],
    );
    return card;
  }

  /**
   * A card number no card has. Looked up before inserting rather than caught as a duplicate key
   * after: on a MongoDB replica set a failed write aborts the whole transaction, so a retry inside
   * it would fail. Two transactions drawing the same number at the same moment (odds ~1 in 2.4e9)
   * still meet at the unique index: the later one fails instead of issuing a second card with it.
   */
  private async unusedNumber(session: ClientSession): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const number = this.drawNumber();
      const taken = await this.repository.cards.countDocuments({ number }, { session, limit: 1 });
      if (taken === 0) return number;
    }
    throw new Error("Five card numbers drawn in a row were all taken.");
  }

  private async recordEvent(
    session: ClientSession,
    cardId: string,
    meta: CommandMeta,
    type: CardEventDocument["type"],
    fromStatus: CardEventDocument["fromStatus"],
    toStatus: CardEventDocument["toStatus"],
  ): Promise<void> {
    const seq = await this.repository.events.countDocuments({ cardId }, { session });
    await this.repository.events.insertOne(
      {
        _id: newId("e"),
        cardId,
        at: meta.now,
        seq,
        type,
        channel: meta.caller.channel,
        fromStatus,
        toStatus,
        actor: meta.caller.sub,
        agent: meta.agent ?? null,
        details: meta.details ?? null,
      },
      { session },
    );
  }
}
