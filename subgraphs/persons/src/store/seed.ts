import { insertMissing, type Db } from "@hub/kit";
import type { IdNumberDocument, PersonDocument } from "./person-document.js";
import { PersonRepository } from "./person-repository.js";

export type { PersonDocument };

/**
 * Writes demo persons that are not stored yet (idempotent), each after its identity number's
 * lookup document, as a registration does: a person whose number is already another person's is
 * left out rather than stored twice.
 */
export async function seedPersons(db: Db, persons: PersonDocument[]): Promise<number> {
  const repository = new PersonRepository(db);
  await repository.ensureIndexes();
  await insertMissing(
    repository.byIdNumber,
    persons.map((p): IdNumberDocument => ({ _id: p.idNumber, personId: p._id })),
  );
  const owners = new Map(
    (
      await repository.byIdNumber.find({ _id: { $in: persons.map((p) => p.idNumber) } }).toArray()
    ).map((claim) => [claim._id, claim.personId]),
  );
  return insertMissing(
    repository.persons,
    persons.filter((p) => owners.get(p.idNumber) === p._id),
  );
}
