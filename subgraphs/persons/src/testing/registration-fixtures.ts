import {
  composeIdNumber,
  documentKey,
  ensureIdempotencyIndexes,
  Outbox,
  type Caller,
  type DocumentKey,
  type MongoClient,
} from "@hub/kit";
import { PersonRegistration } from "../commands/register-person.js";
import { PersonRepository } from "../store/person-repository.js";

/** Tests only: what the persons tests share (a fresh database each, wired as the server does). */

export const caller: Caller = {
  sub: "op-1",
  channel: "COUNTER",
  scopes: new Set(["persons:write"]),
};
export const at = new Date("2026-11-25T09:00:00Z");

/** A fresh database with the repository, the registration command and its outbox. */
export async function freshPersons(
  client: MongoClient,
  name: string,
  outboxOptions?: ConstructorParameters<typeof Outbox>[2],
) {
  const db = client.db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  const outbox = new Outbox(db, "persons", outboxOptions);
  const persons = new PersonRepository(db);
  const registration = new PersonRegistration(persons, outbox);
  await Promise.all([
    persons.ensureIndexes(),
    outbox.ensureIndexes(),
    ensureIdempotencyIndexes(db),
  ]);
  return { db, persons, registration, outbox };
}

let serial = 0;

/** A registration's input with a fresh identity number. */
export function personInput(name = "张三") {
  serial += 1;
  return { idNumber: composeIdNumber("440106", "19850615", serial), name, phone: null };
}

export const keyFor = (key: string, person: ReturnType<typeof personInput>): DocumentKey | null =>
  documentKey("COUNTER", "registerPerson", key, person);
