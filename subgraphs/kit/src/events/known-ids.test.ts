import { describe, expect, it } from "vitest";
import { useTestMongo } from "../testing/test-mongo.js";
import { KnownIds } from "./known-ids.js";

const client = useTestMongo();

describe("known ids", () => {
  it("knows an announced id once however often the event is replayed, and nothing else", async () => {
    const known = new KnownIds(client().db(`known_${Date.now().toString(36)}`), "known_persons");
    expect(await known.has("p_1")).toBe(false);
    await known.add("p_1", new Date("2026-11-25T09:00:00Z"));
    await known.add("p_1", new Date("2026-11-25T09:00:00Z"));
    expect(await known.has("p_1")).toBe(true);
    expect(await known.has("p_2")).toBe(false);
    expect(await known.collection.countDocuments({})).toBe(1);
  });

  it("seeds the ids it does not know yet and leaves the known ones as they were", async () => {
    const known = new KnownIds(client().db(`known_seed_${Date.now().toString(36)}`), "known_cards");
    const announced = new Date("2026-11-25T09:00:00Z");
    await known.add("c_1", announced);
    await known.addMissing(["c_1", "c_2", "c_2", "c_3"], new Date(0));
    expect(await known.collection.findOne({ _id: "c_1" })).toEqual({ _id: "c_1", at: announced });
    expect(await known.collection.countDocuments({})).toBe(3);
  });
});
