import {
  documentKey,
  faultPoint,
  HubError,
  recordFor,
  withKeyRecord,
  WRITE_ATTEMPTS,
} from "@hub/kit";
import { cardHeldInProvince } from "../rules/duplicates.js";
import type { CardDocument } from "../store/card-document.js";
import { toCardRecord } from "../store/card-repository.js";
import type { ClaimingPerson } from "../store/person-registry.js";
import { issuedEvent } from "./card-events.js";
import { unusedNumber } from "./card-numbers.js";
import type { CardStores } from "./card-stores.js";
import type { CommandMeta, CommandResult } from "./command-meta.js";
import { newCard } from "./new-card.js";
import { storeClaimed } from "./store-claimed-card.js";

/** What an issue asks for: the holder, where and by which bank, and when. */
export interface IssuePlan {
  personId: string;
  province: string;
  issuingBank: string;
  issuedAt: Date;
}

/**
 * Issues a card without a multi-document transaction. The person's registry entry is the one
 * place two issues for one person meet: a version-guarded claim there records the new card
 * (carrying its CardIssued event) and the request's idempotency record; the card is inserted
 * after. Whoever finds a claim whose card is not stored yet (its writer stopped, or has not got
 * there) stores it first, so R-DUP-1 is always checked against every card being issued; and the
 * claim sweep (claim-sweep.ts) stores it when no later issue for the person comes.
 */
export async function issueCard(
  stores: CardStores,
  meta: CommandMeta,
  plan: IssuePlan,
): Promise<CommandResult> {
  const { repository, registry, outbox } = stores;
  const key = documentKey(meta.caller.channel, meta.operation, meta.idempotencyKey, meta.input);
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const person = await registry.find(plan.personId);
    if (!person) throw new HubError("NOT_FOUND", "No registered person has this id.");
    if (person.issuing) {
      const claimed = person as ClaimingPerson;
      const stored = await storeClaimed(stores, claimed, meta.effects);
      // Stored under another number: the claim and its request's record changed, read again.
      if (stored.number !== claimed.issuing.card.number) continue;
    }
    const earlier = recordFor(person.keys, key);
    if (earlier) {
      // Answered as the first call was: once its effects (maybe still on their way) are in.
      await outbox.follow(earlier.events, meta.effects);
      return earlier.result as CommandResult;
    }
    const held = cardHeldInProvince(
      // As a majority holds them: a CONFLICT names a card that stays.
      (
        await repository.cards
          .find(
            { personId: plan.personId, province: plan.province },
            { readConcern: { level: "majority" } },
          )
          .toArray()
      ).map(toCardRecord),
      plan.province,
    );
    if (held) {
      // The card may be this very request's, sent twice at once: the other call's record wins.
      if (key && recordFor((await registry.find(plan.personId))?.keys, key)) continue;
      throw new HubError(
        "CONFLICT",
        `The person already holds the card ${held.id} (${held.status}) in province ${plan.province}: one card per province (R-DUP-1). To give them a new card, use replaceCard on it.`,
        { cardId: held.id, cardStatus: held.status, remedy: "replaceCard" },
      );
    }
    const card = newCard(
      meta,
      { ...plan, status: "ARCHIVED", replacesId: null },
      "ISSUED",
      await unusedNumber(stores, plan.province),
    );
    const outgoing = outbox.prepare(issuedEvent(card, meta));
    const carrying: CardDocument = { ...card, ...outbox.carry({}, outgoing) };
    const result: CommandResult = { cardId: card._id, card: toCardRecord(card) };
    const claimed = await registry.claimIssue(person, {
      card: carrying,
      at: meta.now,
      keys: withKeyRecord(person.keys, key, result, meta.now, outgoing),
    });
    if (!claimed) {
      // Lost to another write: read again once a majority holds it (find reads as one does).
      await registry.majorityCaughtUp(plan.personId);
      continue;
    }
    // A crash here leaves the card only inside the claim: the next issue for the person or the
    // claim sweep stores it.
    await faultPoint("after-issue-claim", { personId: plan.personId, cardId: card._id });
    const stored = await storeClaimed(
      stores,
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
