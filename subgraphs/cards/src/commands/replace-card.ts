import { HubError, runIdempotent, type OutboxDocument } from "@hub/kit";
import type { ClientSession } from "mongodb";
import { applyCommand, type CardCommand, type Transition } from "../rules/state-machine.js";
import type { CardDocument, CardEventDocument } from "../store/card-document.js";
import { toCardRecord } from "../store/card-repository.js";
import { issuedEvent, statusEvent } from "./card-events.js";
import { changedFields } from "./card-history.js";
import { unusedNumber } from "./card-numbers.js";
import type { CardStores } from "./card-stores.js";
import type { CommandMeta, CommandResult } from "./command-meta.js";
import { newCard, type NewCardPlan } from "./new-card.js";

/**
 * A replacement (R-CARD-9): the old card changes and a new card is issued, two documents written
 * in one transaction with the request's idempotency record (all or nothing).
 */
export async function replaceCard(
  stores: CardStores,
  cardId: string,
  command: CardCommand,
  meta: CommandMeta,
): Promise<CommandResult> {
  return runIdempotent({
    db: stores.repository.db,
    channel: meta.caller.channel,
    key: meta.idempotencyKey,
    operation: meta.operation,
    input: meta.input,
    work: (session) => applyIn(stores, session, cardId, command, meta),
  });
}

/** Applies the command inside the replacement's transaction. */
async function applyIn(
  stores: CardStores,
  session: ClientSession,
  cardId: string,
  command: CardCommand,
  meta: CommandMeta,
): Promise<CommandResult> {
  const doc = await stores.repository.cards.findOne({ _id: cardId }, { session });
  if (!doc) throw new HubError("NOT_FOUND", `No card has the id "${cardId}".`);
  const before = toCardRecord(doc);
  const transition = applyCommand(before, command, meta.caller.channel, meta.now);
  const result: CommandResult = {
    cardId,
    card: before,
    firstActivation: transition.firstActivation,
  };
  if (!transition.change) return result;
  // The old card's change is stamped after every event of that card before it, and the new
  // card's CardIssued after that (Outbox.prepare): each card's events leave in its order, and the
  // feed logs the old card's CARD_REPLACED before the new card's CARD_ISSUED.
  const status = statusEvent(doc, transition, meta);
  const changed = status ? stores.outbox.prepare(status, stores.outbox.floorOf(doc)) : [];
  if (transition.replacement) {
    const replacement = await insertCard(
      stores,
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
      stores.outbox.stampedThrough(doc, changed)?.getTime() ?? 0,
    );
    transition.card.replacedById = replacement._id;
    result.newCard = toCardRecord(replacement);
    result.fee = transition.replacement.fee;
  }
  await save(stores, session, doc, transition, meta, changed);
  result.card = { ...transition.card, number: before.number, version: before.version + 1 };
  return result;
}

/**
 * The card's change inside a transaction, addressed by its full shard key. Events the card
 * still carries (a single-document writer stopped before releasing them) go to the outbox in
 * the same transaction and the card stops carrying them: left in it, a later writer or the
 * stranded sweep would release them again after this version. `changed` is the change's event,
 * prepared after the card's earlier ones; the card records its stamp for the writes after it.
 */
async function save(
  stores: CardStores,
  session: ClientSession,
  doc: CardDocument,
  transition: Transition,
  meta: CommandMeta,
  changed: readonly OutboxDocument[],
): Promise<void> {
  const updated = await stores.repository.cards.updateOne(
    { personId: doc.personId, _id: doc._id, version: doc.version },
    {
      $set: {
        ...(await changedFields(stores.repository, doc, transition, meta, session)),
        version: doc.version + 1,
        outgoing: [],
        outgoingSince: null,
        enqueuedThrough: stores.outbox.stampedThrough(doc, changed),
      },
    },
    { session },
  );
  if (updated.matchedCount === 0)
    throw new HubError(
      "CONFLICT",
      "The card was changed by a concurrent request; read it again and retry.",
    );
  await stores.outbox.releaseCarriedIn(session, doc.outgoing, meta.effects);
  await stores.outbox.addPrepared(session, changed, meta.effects);
}

/**
 * A replacement card, inside the replacing transaction, its number reserved in the same; its
 * CardIssued is stamped after `floor` (the replaced card's change) and recorded on it.
 */
async function insertCard(
  stores: CardStores,
  session: ClientSession,
  meta: CommandMeta,
  plan: NewCardPlan,
  type: CardEventDocument["type"],
  floor: number,
): Promise<CardDocument> {
  const drawn = newCard(meta, plan, type, await unusedNumber(stores, plan.province, session));
  const issued = stores.outbox.prepare(issuedEvent(drawn, meta), floor);
  const card: CardDocument = {
    ...drawn,
    enqueuedThrough: stores.outbox.stampedThrough({}, issued),
  };
  await stores.repository.reserveNumberIn(session, card.province, card.number, card._id);
  await stores.repository.cards.insertOne(card, { session });
  await stores.outbox.addPrepared(session, issued, meta.effects);
  return card;
}
