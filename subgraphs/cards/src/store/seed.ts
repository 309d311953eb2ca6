import { insertMissing, type Db } from "@hub/kit";
import type { CardDocument, CardEventDocument } from "./card-document.js";
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
  const inserted = await insertMissing(repository.cards, cards);
  const registry = new PersonRegistry(db);
  await registry.addMissing(personIds, new Date(0));
  for (const lock of electronicLocks) await registry.seedElectronicLock(lock.personId, lock.until);
  await insertMissing(repository.events, events);
  return inserted;
}
