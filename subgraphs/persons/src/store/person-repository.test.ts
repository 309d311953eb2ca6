import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { at, caller, freshPersons, personInput } from "../testing/registration-fixtures.js";
import type { PersonDocument } from "./person-document.js";

const client = useTestMongo();

describe("backfill: persons stored before the lookup documents existed", () => {
  it("writes the missing lookup documents (then the numbers are unique again), and does nothing when none are missing", async () => {
    const { persons, registration } = await freshPersons(client(), "persons_repo");
    const old: PersonDocument[] = Array.from({ length: 7 }, (_, i) => {
      const { idNumber, name } = personInput();
      return { _id: `p_old${i}`, idNumber, name, phone: null, createdAt: at };
    });
    await persons.persons.insertMany(old);
    await persons.byIdNumber.insertOne({ _id: old[0]!.idNumber, personId: old[0]!._id });
    expect(await persons.backfillIdNumbers()).toBe(6);
    expect(await persons.backfillIdNumbers()).toBe(0);
    expect((await persons.findByIdNumbers(old.map((p) => p.idNumber))).length).toBe(7);
    const again = { idNumber: old[3]!.idNumber, name: "王五", phone: null };
    await expect(registration.register(again, at, caller, null, null)).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });
});
