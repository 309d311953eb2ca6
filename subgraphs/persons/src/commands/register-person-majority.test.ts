import { useFindRecorder } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { at, caller, freshPersons, keyFor, personInput } from "../testing/registration-fixtures.js";

/**
 * A second registration of a number answers (CONFLICT, or the first person for a replay) from the
 * claim that refused it: only once a majority holds that claim, since the duplicate key is the
 * primary's own data and a failover may roll back a claim another request has just written.
 */
const { client, finds, readConcerns } = useFindRecorder();

const claimReads = (from: number) => readConcerns("persons_by_id_number", from);

describe("a registration refused by a claim answers from what a majority holds", () => {
  it("reads the refusing claim with read concern majority, for a CONFLICT and for a replay", async () => {
    const { registration } = await freshPersons(client(), "persons_majority");
    const person = personInput();
    const first = await registration.register(person, at, caller, keyFor("k", person), null);
    let from = finds.length;
    await expect(registration.register(person, at, caller, null, null)).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(claimReads(from)).toEqual(["majority"]);
    from = finds.length;
    expect(await registration.register(person, at, caller, keyFor("k", person), null)).toBe(first);
    expect(claimReads(from)).toEqual(["majority"]);
  });

  it("a claim a majority does not hold (rolled back, or not replicated yet) is SERVICE_UNAVAILABLE after a few reads, not an answer", async () => {
    const { persons, registration } = await freshPersons(client(), "persons_majority");
    const person = personInput();
    // The primary refuses the claim (duplicate key) but no majority read finds one: what a claim
    // another request wrote on this primary, then rolled back by an election, looks like here.
    Object.assign(persons.byIdNumber, {
      insertOne: () =>
        Promise.reject(Object.assign(new Error("E11000 duplicate key"), { code: 11000 })),
    });
    const from = finds.length;
    await expect(registration.register(person, at, caller, null, null)).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
    });
    expect(claimReads(from)).toEqual(["majority", "majority", "majority", "majority", "majority"]);
  });
});
