import {
  beside,
  HubError,
  isDuplicateKeyError,
  untilMajorityShows,
  type EffectScope,
} from "@hub/kit";
import { CARD_NUMBER_DRAWS, cardNumberKey } from "../rules/card-number.js";
import type { CardDocument } from "../store/card-document.js";
import type { CardRepository } from "../store/card-repository.js";
import type { ClaimingPerson } from "../store/person-registry.js";
import { unusedNumber } from "./card-numbers.js";
import type { CardStores } from "./card-stores.js";

/**
 * Stores the card the person's claim holds unless it is stored already, and releases its
 * CardIssued (again, if its writer may not have got there: the outbox stores each event once).
 * The calling request waits for that event's delivery either way. Answers the stored card. Run by
 * the issue that claimed it, by any later issue for the person that finds the claim, and by the
 * claim sweep.
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
export async function storeClaimed(
  stores: CardStores,
  person: ClaimingPerson,
  effects: EffectScope | null,
): Promise<CardDocument> {
  let claim = person;
  for (let attempt = 0; attempt < CARD_NUMBER_DRAWS; attempt++) {
    const card = claim.issuing.card;
    const found = await findStored(stores.repository, card);
    if (found) return releaseStored(stores, found, card, effects);
    const writtenAt = performance.now();
    const stored = await insertClaimed(stores.repository, card);
    // `card` itself when this call inserted it; another object when it found it stored.
    if (stored)
      return releaseStored(stores, stored, card, effects, stored === card ? writtenAt : undefined);
    const number = await unusedNumber(stores, card.province);
    if (await stores.registry.renumberClaim(claim, number)) {
      claim = {
        ...claim,
        version: (claim.version ?? 0) + 1,
        issuing: { ...claim.issuing, card: { ...card, number } },
      };
      continue;
    }
    // Someone else changed the claim first: renumbered it (go on with theirs), or stored its
    // card and then cleared or replaced the claim (a claim never goes before its card is stored).
    // Read once a majority holds their change (find reads as one does).
    await stores.registry.majorityCaughtUp(person._id);
    const now = await stores.registry.find(person._id);
    if (now?.issuing?.card._id === card._id) {
      claim = now as ClaimingPerson;
      continue;
    }
    const storedMeanwhile = await findStored(stores.repository, card);
    if (storedMeanwhile) return releaseStored(stores, storedMeanwhile, card, effects);
    throw new Error(`the claim of card ${card._id} went without its card being stored`);
  }
  throw new HubError(
    "SERVICE_UNAVAILABLE",
    `The card ${person.issuing.card._id} claimed for this person could not be stored: ${CARD_NUMBER_DRAWS} numbers in a row were taken before it was. Try again.`,
  );
}

/**
 * The card as a majority holds it, read by its full shard key; null when a majority does not
 * hold it. Finding it stored lets the claim go: the sweep clears it, the person's next issue
 * replaces it. A card another writer has inserted on the primary alone (it stalled before its
 * majority, then died) is rolled back by a failover; a claim let go on a local read of it would
 * lose the card and its CardIssued. Not held by a majority: the caller stores it, and the
 * insert's duplicate key waits for a majority to hold it (storedAfterDuplicate).
 */
export function findStored(
  repository: CardRepository,
  card: Pick<CardDocument, "_id" | "personId">,
  comment?: string,
): Promise<CardDocument | null> {
  return repository.cards.findOne(
    { personId: card.personId, _id: card._id },
    { readConcern: { level: "majority" }, ...(comment === undefined ? {} : { comment }) },
  );
}

/**
 * The card a duplicate key refused, as a majority holds it; null when not even the primary has it
 * (then the duplicate was its number: see insertClaimed). One the primary holds and a majority
 * does not after a few reads is being written or rolled back: SERVICE_UNAVAILABLE, retryable (the
 * sweep tries again on its next poll), and the claim stays.
 */
function storedAfterDuplicate(
  repository: CardRepository,
  card: CardDocument,
): Promise<CardDocument | null> {
  return untilMajorityShows(
    () => findStored(repository, card),
    `The card ${card._id} claimed for this person is being stored elsewhere; retry shortly.`,
    {
      absent: async () =>
        !(await repository.cards.findOne({ personId: card.personId, _id: card._id })),
    },
  );
}

/**
 * Reserves the claimed card's number and inserts the card: the card as stored (by this call or
 * a concurrent one), or null when its number is another card's.
 */
async function insertClaimed(
  repository: CardRepository,
  card: CardDocument,
): Promise<CardDocument | null> {
  if (!(await repository.reserveNumber(card.province, card.number, card._id))) return null;
  try {
    await beside(repository.db, () => repository.cards.insertOne(card));
    return card;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const stored = await storedAfterDuplicate(repository, card);
    if (stored) return stored;
    // Not this card's id: the old nationwide unique index on `cards.number` (databases created
    // before `card_numbers`) refused the number. Let it go again and draw another.
    await beside(repository.db, () =>
      repository.cardNumbers.deleteOne({
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
 * has not released (and the relay delivered) them already. A card this call only found stored
 * is released as a majority holds it (Outbox.releaseCommitted): a local read may see an insert a
 * failover then rolls back.
 */
async function releaseStored(
  stores: CardStores,
  stored: CardDocument,
  claimed: CardDocument,
  effects: EffectScope | null,
  writtenAt?: number,
): Promise<CardDocument> {
  const carrier = stores.repository.cardsAsCarrier;
  if (stored.outgoing?.length && writtenAt !== undefined)
    await stores.outbox.release(carrier, stored, effects, writtenAt);
  else if (stored.outgoing?.length) await stores.outbox.releaseCommitted(carrier, stored, effects);
  // Released by another request that found the claim: wait for them as if released here.
  else
    await stores.outbox.follow(
      claimed.outgoing?.map((event) => event._id),
      effects,
    );
  return stored;
}
