import {
  composeIdNumber,
  documentKey,
  ensureIdempotencyIndexes,
  injectFault,
  InjectedCrash,
  Outbox,
  type Caller,
  type DocumentKey,
  type MongoClient,
} from "@hub/kit";
import { expect } from "vitest";
import { PersonRegistration } from "../commands/register-person.js";
import type { IdNumberDocument } from "../store/person-document.js";
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

/**
 * A registration of a new person (idempotency key `key`) whose process stopped right after its
 * identity number's claim, as a crash would: the person, the key, and the claim left pending (the
 * person not stored).
 */
export async function registrationStoppedAfterClaim(
  { persons, registration }: { persons: PersonRepository; registration: PersonRegistration },
  key: string,
) {
  const person = personInput();
  const documentKey = keyFor(key, person);
  const unhook = injectFault("after-id-number-claim", () => {
    throw new InjectedCrash("after-id-number-claim");
  });
  try {
    await expect(
      registration.register(person, at, caller, documentKey, null),
    ).rejects.toBeInstanceOf(InjectedCrash);
  } finally {
    unhook();
  }
  const claim: IdNumberDocument = (await persons.byIdNumber.findOne({ _id: person.idNumber }))!;
  return { person, key: documentKey, claim };
}

/**
 * Stores the person of a pending `claim` as `complete` writes it, its events still carried: what
 * a writer that stopped before settling the claim leaves behind.
 */
export async function storeClaimedPerson(
  persons: PersonRepository,
  person: ReturnType<typeof personInput>,
  claim: IdNumberDocument,
): Promise<void> {
  await persons.persons.insertOne({
    _id: claim.personId,
    idNumber: person.idNumber,
    name: person.name,
    phone: null,
    createdAt: at,
    version: 1,
    createdWith: claim.pending!.createdWith!,
    outgoing: claim.pending!.outgoing,
    outgoingSince: at,
  });
}
