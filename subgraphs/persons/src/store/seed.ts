import { insertMissing, type Db } from "@hub/kit";
import type { PersonDocument } from "./person-document.js";
import { PersonRepository } from "./person-repository.js";

export type { PersonDocument };

/** Writes demo persons that are not stored yet (idempotent). */
export async function seedPersons(db: Db, persons: PersonDocument[]): Promise<number> {
  const repository = new PersonRepository(db);
  await repository.ensureIndexes();
  return insertMissing(repository.persons, persons);
}
