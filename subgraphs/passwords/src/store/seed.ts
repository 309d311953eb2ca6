import { insertMissing, type Db } from "@hub/kit";
import type { CardPasswordDocument, ElectronicPasswordDocument } from "./password-documents.js";
import { PasswordRepository } from "./password-repository.js";

export type { CardPasswordDocument, ElectronicPasswordDocument };
export { hashPassword } from "../crypto/password-hash.js";

/** Writes demo password records that are not stored yet (idempotent). */
export async function seedPasswords(
  db: Db,
  cardPasswords: CardPasswordDocument[],
  electronicPasswords: ElectronicPasswordDocument[],
): Promise<number> {
  const repository = new PasswordRepository(db);
  await repository.ensureIndexes();
  return (
    (await insertMissing(repository.cardPasswords, cardPasswords)) +
    (await insertMissing(repository.electronicPasswords, electronicPasswords))
  );
}
