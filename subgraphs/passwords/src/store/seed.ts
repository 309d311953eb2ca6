import { insertMissing, type Db } from "@hub/kit";
import type { CardPasswordDocument, ElectronicPasswordDocument } from "./password-documents.js";
import { PasswordRepository } from "./password-repository.js";

export type { CardPasswordDocument, ElectronicPasswordDocument };
export { hashPassword } from "../crypto/password-hash.js";
export { electronicLockEnds } from "../rules/lock-rules.js";

/** Writes demo password records that are not stored yet (idempotent). */
export async function seedPasswords(
  db: Db,
  cardPasswords: CardPasswordDocument[],
  electronicPasswords: ElectronicPasswordDocument[],
  known: {
    cardIds: readonly string[];
    personIds: readonly string[];
    /** The seeded cards' statuses, so a seeded CANCELLED card is refused as one (R-CARD-10). */
    cardStatuses?: readonly { cardId: string; status: string; cardVersion: number }[];
  },
): Promise<number> {
  const repository = new PasswordRepository(db);
  await repository.ensureIndexes();
  await repository.known.cards.addMissing(known.cardIds, new Date(0));
  await repository.known.persons.addMissing(known.personIds, new Date(0));
  for (const { cardId, status, cardVersion } of known.cardStatuses ?? [])
    await repository.known.noteCardStatus(cardId, status, cardVersion);
  return (
    (await insertMissing(repository.cardPasswords.collection, cardPasswords)) +
    (await insertMissing(repository.electronicPasswords.collection, electronicPasswords))
  );
}
