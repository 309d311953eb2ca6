import type { DocumentKey, Outbox } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import type { PersonRepository } from "../store/person-repository.js";
import {
  at,
  caller,
  freshPersons,
  keyFor,
  personInput,
  storeClaimedPerson,
} from "../testing/registration-fixtures.js";
import type { PersonRegistration } from "./register-person.js";

const client = useTestMongo();

/** PersonRegistered events in the outbox for `personId` (one per receiver). */
async function eventsFor(outbox: Outbox, personId: string) {
  return outbox.events.find({ "payload.personId": personId }).toArray();
}

describe("registration: the identity number's document first, then the person", () => {
  it("stores both, releases PersonRegistered once per receiver, and finds the person by number", async () => {
    const { persons, registration, outbox } = await freshPersons(client(), "persons_register");
    const person = personInput();
    const personId = await registration.register(person, at, caller, null, null);
    expect(await persons.byIdNumber.findOne({ _id: person.idNumber })).toEqual({
      _id: person.idNumber,
      personId,
      pending: null,
    });
    const stored = await persons.persons.findOne({ _id: personId });
    expect(stored).toMatchObject({ idNumber: person.idNumber, version: 1, outgoing: [] });
    expect((await eventsFor(outbox, personId)).map((e) => e.destination).sort()).toEqual([
      "cards",
      "passwords",
    ]);
    expect(await persons.findByIdNumbers([person.idNumber, "unknown"])).toEqual([
      { id: personId, idNumber: person.idNumber, name: person.name, phone: null },
    ]);
  });

  it("a replay answers the first person; the same key with other input, or another registration of the number, is a CONFLICT", async () => {
    const { persons, registration } = await freshPersons(client(), "persons_register");
    const person = personInput();
    const first = await registration.register(person, at, caller, keyFor("k1", person), null);
    expect(await registration.register(person, at, caller, keyFor("k1", person), null)).toBe(first);
    const renamed = { ...person, name: "李四" };
    await expect(
      registration.register(renamed, at, caller, keyFor("k1", renamed), null),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    // Another number under the same key: the key's binding (its _id is the key) tells.
    const other = personInput();
    await expect(
      registration.register(other, at, caller, keyFor("k1", other), null),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(registration.register(person, at, caller, null, null)).rejects.toMatchObject({
      code: "CONFLICT",
      message: "A person with this identity number is already registered.",
    });
    await expect(
      registration.register(person, at, caller, keyFor("k2", person), null),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await persons.persons.countDocuments({ idNumber: person.idNumber })).toBe(1);
    expect(await persons.findByIdNumbers([other.idNumber])).toEqual([]);
  });

  it("concurrent registrations of one number with one key: one person, one event, every call answers it", async () => {
    const { persons, registration, outbox } = await freshPersons(client(), "persons_register");
    const person = personInput();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        registration.register(person, at, caller, keyFor("same", person), null),
      ),
    );
    expect(new Set(answers).size).toBe(1);
    expect(await persons.persons.countDocuments({ idNumber: person.idNumber })).toBe(1);
    expect(await eventsFor(outbox, answers[0]!)).toHaveLength(2);
  });

  it("a writer that stopped after the identity number's document: a retry with its key finishes the registration with the same event", async () => {
    const { persons, registration, outbox } = await freshPersons(client(), "persons_register");
    const person = personInput();
    const key = keyFor("crash", person);
    const personId = await stopAfterClaim({ persons, registration }, person, key);
    expect(await persons.persons.findOne({ _id: personId })).toBeNull();
    // Unfinished: the number leads to nobody yet.
    expect(await persons.findByIdNumbers([person.idNumber])).toEqual([]);
    const claimed = await persons.byIdNumber.findOne({ _id: person.idNumber });
    const eventIds = claimed!.pending!.outgoing.map((e) => e._id).sort();

    expect(await registration.register(person, at, caller, key, null)).toBe(personId);
    expect(await persons.findByIdNumbers([person.idNumber])).toEqual([
      expect.objectContaining({ id: personId }),
    ]);
    expect((await eventsFor(outbox, personId)).map((e) => e._id).sort()).toEqual(eventIds);
    expect((await persons.byIdNumber.findOne({ _id: person.idNumber }))!.pending).toBeNull();
  });

  it("a writer that stopped after the identity number's document: another registration of the number finishes it, then is a CONFLICT", async () => {
    const { persons, registration, outbox } = await freshPersons(client(), "persons_register");
    const person = personInput();
    const personId = await stopAfterClaim({ persons, registration }, person, null);
    await expect(registration.register(person, at, caller, null, null)).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(await persons.persons.findOne({ _id: personId })).toMatchObject({
      idNumber: person.idNumber,
    });
    expect(await eventsFor(outbox, personId)).toHaveLength(2);
  });

  it("a writer that stopped after the person, before releasing its event: the replay releases it", async () => {
    const { persons, registration, outbox } = await freshPersons(client(), "persons_register");
    const person = personInput();
    const key = keyFor("stranded", person);
    const personId = await stopAfterClaim({ persons, registration }, person, key);
    const claim = (await persons.byIdNumber.findOne({ _id: person.idNumber }))!;
    // The person written as `complete` writes it, its events still carried.
    await storeClaimedPerson(persons, person, claim);
    expect(await registration.register(person, at, caller, key, null)).toBe(personId);
    expect(await eventsFor(outbox, personId)).toHaveLength(2);
    expect((await persons.persons.findOne({ _id: personId }))!.outgoing).toEqual([]);
  });
});

/**
 * A registration whose writer stopped right after its first write: the identity number's
 * document is stored as `register` writes it, the person is not. Answers the claimed person id.
 */
async function stopAfterClaim(
  { persons, registration }: { persons: PersonRepository; registration: PersonRegistration },
  person: ReturnType<typeof personInput>,
  key: DocumentKey | null,
): Promise<string> {
  const insertOne = persons.persons.insertOne.bind(persons.persons);
  persons.persons.insertOne = (() => {
    throw new Error("the writer stopped");
  }) as typeof persons.persons.insertOne;
  try {
    await expect(registration.register(person, at, caller, key, null)).rejects.toThrow(
      "the writer stopped",
    );
  } finally {
    persons.persons.insertOne = insertOne;
  }
  return (await persons.byIdNumber.findOne({ _id: person.idNumber }))!.personId;
}
