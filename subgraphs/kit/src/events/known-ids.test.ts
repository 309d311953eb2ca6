import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMongo, type MongoClient } from "../mongo/connect.js";
import { startEmbeddedMongo, type EmbeddedMongo } from "../mongo/embedded-mongo.js";
import { KnownIds } from "./known-ids.js";

let mongo: EmbeddedMongo | null = null;
let client: MongoClient;
beforeAll(async () => {
  const uri = process.env["TEST_MONGODB_URI"] ?? (mongo = await startEmbeddedMongo()).uri;
  client = await connectMongo(uri);
});
afterAll(async () => {
  await client?.close();
  await mongo?.stop();
});

describe("known ids", () => {
  it("knows an announced id once however often the event is replayed, and nothing else", async () => {
    const known = new KnownIds(client.db(`known_${Date.now().toString(36)}`), "known_persons");
    expect(await known.has("p_1")).toBe(false);
    await known.add("p_1", new Date("2026-11-25T09:00:00Z"));
    await known.add("p_1", new Date("2026-11-25T09:00:00Z"));
    expect(await known.has("p_1")).toBe(true);
    expect(await known.has("p_2")).toBe(false);
    expect(await known.collection.countDocuments({})).toBe(1);
  });
});
