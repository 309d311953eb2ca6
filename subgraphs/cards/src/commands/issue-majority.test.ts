import { useFindRecorder } from "@hub/kit/testing";
import type { Collection, Document, FindOptions } from "mongodb";
import { describe, expect, it } from "vitest";
import { freshCards, issuePlan, metaFor } from "../testing/card-fixtures.js";

/**
 * An issue answers from what it reads (a replay from the person's idempotency records, R-DUP-1's
 * CONFLICT from the cards held) and stores a claim it finds: each read as a majority holds it, so
 * no answer and no stored card come from a write a failover then rolls back.
 */
const { client, readConcernsDuring } = useFindRecorder();

/** The read concern of each find on `collection` matching `about` while `run` runs (or fails). */
const findsDuring = (
  collection: string,
  about: (filter: Record<string, unknown>) => boolean,
  run: () => Promise<unknown>,
) => readConcernsDuring(collection, () => run().catch(() => undefined), about);

describe("issuing reads the person's entry and held cards as a majority holds them", () => {
  it("for a first issue, a replay and an R-DUP-1 CONFLICT", async () => {
    const { registry, commands } = await freshCards(client(), "issue_majority");
    await registry.add("p_1", new Date("2026-11-01T00:00:00Z"));
    const first = () => commands.issue(metaFor("issueCard", { key: "k-1" }), issuePlan("p_1"));
    const again = () => commands.issue(metaFor("issueCard"), issuePlan("p_1"));
    for (const run of [first, first, again]) {
      const entries = await findsDuring("known_persons", () => true, run);
      expect(entries.length).toBeGreaterThan(0);
      expect(entries).toEqual(entries.map(() => "majority"));
    }
    // R-DUP-1's query (by person and province; storing a claimed card reads it by its own key).
    const held = await findsDuring("cards", (filter) => "province" in filter, again);
    expect(held.length).toBeGreaterThan(0);
    expect(held).toEqual(held.map(() => "majority"));
    await expect(again()).rejects.toMatchObject({ code: "CONFLICT" });
  });
});

describe("issuing while a majority lags behind the primary", () => {
  it("an issue that lost its version guard to a write a majority does not hold yet waits for it, rather than losing every retry (no false CONFLICT)", async () => {
    const { registry, commands } = await freshCards(client(), "issue_lagging");
    await registry.add("p_1", new Date("2026-11-01T00:00:00Z"));
    // The registry's own collection object (private): its majority reads are made to lag.
    const persons = (registry as unknown as { persons: Collection<Document> }).persons;
    const stale = persons.db.collection("known_persons_majority_view");
    await stale.insertMany(await persons.find({}).toArray());
    // Another write on the primary only (a concurrent issue's claim, say): the majority view
    // shows the entry as before it for the next 150 ms.
    await persons.updateOne({ _id: "p_1" as never }, { $set: { version: 7 } });
    const lagsUntil = Date.now() + 150;
    const findOne = persons.findOne.bind(persons);
    Object.assign(persons, {
      findOne: (filter: Document, options?: FindOptions) =>
        Date.now() < lagsUntil &&
        (options?.readConcern as { level?: string } | undefined)?.level === "majority"
          ? stale.findOne(filter, { projection: options?.projection })
          : findOne(filter, options),
    });
    const issued = await commands.issue(metaFor("issueCard"), issuePlan("p_1"));
    expect(issued.card).toMatchObject({ province: "44" });
    expect((await findOne({ _id: "p_1" as never }))?.["version"]).toBe(8);
  });
});
