import { stubMajorityReads, useFindRecorder } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import {
  at,
  caller,
  freshPersons,
  registrationStoppedAfterClaim,
  storeClaimedPerson,
} from "../testing/registration-fixtures.js";

/**
 * Completing a registration settles its claim (clears `pending`) and answers from the person it
 * reads: that read is as a majority holds it. A person another writer inserted on the primary
 * alone may be rolled back by a failover; a claim settled from it would name a person that does
 * not exist, its PersonRegistered never sent, with nothing left to complete it.
 */
const { client, finds, readConcerns } = useFindRecorder();

const personReads = (from: number) => readConcerns("persons", from);

/**
 * A registration whose writer inserted its person and stopped before settling the claim (or is
 * still on its way): the claim pending, the person stored with its event still carried.
 */
async function personStoredClaimPending() {
  const parts = await freshPersons(client(), "persons_settle_majority");
  const { person, key, claim } = await registrationStoppedAfterClaim(parts, "k-first");
  await storeClaimedPerson(parts.persons, person, claim);
  return { ...parts, person, key, personId: claim.personId };
}

describe("a registration's claim is settled from the person as a majority holds it", () => {
  it("reads the person with read concern majority when completing a pending claim, and for a settled one", async () => {
    const { persons, registration, person, key, personId } = await personStoredClaimPending();
    let from = finds.length;
    await expect(registration.register(person, at, caller, null, null)).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect((await persons.byIdNumber.findOne({ _id: person.idNumber }))!.pending).toBeNull();
    const pending = personReads(from);
    expect(pending.length).toBeGreaterThan(0);
    expect(pending).toEqual(pending.map(() => "majority"));
    // Settled now: a replay answers from the person too.
    from = finds.length;
    expect(await registration.register(person, at, caller, key, null)).toBe(personId);
    expect(personReads(from)).toEqual(["majority"]);
  });

  it("a person the primary shows and a majority does not: SERVICE_UNAVAILABLE, the claim stays pending, for a later registration and for the sweep", async () => {
    const { persons, registration, person, key, personId } = await personStoredClaimPending();
    // The primary holds the persons, a majority read finds none of them (not replicated yet).
    const restore = stubMajorityReads(persons.persons);
    await expect(registration.register(person, at, caller, null, null)).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
    });
    await expect(registration.register(person, at, caller, key, null)).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
    });
    await expect(registration.completeStrandedRegistrations(0)).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
    });
    // Not settled: were the person rolled back, the sweep would still store it from the claim.
    expect((await persons.byIdNumber.findOne({ _id: person.idNumber }))!.pending).not.toBeNull();

    // Once a majority holds the person, the claim is settled and the replay answered.
    restore();
    expect(await registration.register(person, at, caller, key, null)).toBe(personId);
    expect((await persons.byIdNumber.findOne({ _id: person.idNumber }))!.pending).toBeNull();
  });
});
