import { insertMissing, type Db } from "@hub/kit";
import { HISTORY_KEPT, type CardDocument, type CardEventDocument } from "./card-document.js";
import { CardRepository } from "./card-repository.js";
import { PersonRegistry } from "./person-registry.js";

export type { CardDocument, CardEventDocument };

/** Writes demo cards and their histories that are not stored yet (idempotent). */
export async function seedCards(
  db: Db,
  cards: CardDocument[],
  events: CardEventDocument[],
  personIds: readonly string[],
  /** Persons whose electronic-card password is locked, and until when (R-PWD-4). */
  electronicLocks: readonly { personId: string; until: Date }[] = [],
): Promise<number> {
  const repository = new CardRepository(db);
  await repository.ensureIndexes();
  // Their numbers are taken in their provinces before the cards are stored, as an issued card's.
  await repository.reserveNumbersOf(cards);
  // Histories are kept inside their cards (the newest HISTORY_KEPT; demo cards have a few each).
  const byCard = new Map<string, CardEventDocument[]>();
  for (const event of [...events].sort((a, b) => a.at.getTime() - b.at.getTime() || a.seq - b.seq))
    byCard.set(event.cardId, [...(byCard.get(event.cardId) ?? []), event]);
  const inserted = await insertMissing(
    repository.cards,
    cards.map((card) => ({
      ...card,
      history: (byCard.get(card._id) ?? [])
        .slice(-HISTORY_KEPT)
        .map((event, seq) => ({ ...event, seq })),
      archivedHistory: 0,
    })),
  );
  const registry = new PersonRegistry(db);
  await registry.addMissing(personIds, new Date(0));
  for (const lock of electronicLocks) await registry.seedElectronicLock(lock.personId, lock.until);
  return inserted;
}
