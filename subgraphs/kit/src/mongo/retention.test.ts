import { describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { startRetentionSweep } from "./retention.js";

const client = useTestMongo();

describe("retention sweep (bounded collections)", () => {
  it("removes what is past its retention and keeps the rest, on whichever server the tests run", async () => {
    const db = client().db(`retention_${Date.now().toString(36)}`);
    const processed = db.collection("processed_events");
    const now = new Date("2026-12-01T12:00:00Z");
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
    await processed.insertMany([
      { _id: "old" as never, appliedAt: hoursAgo(30) },
      { _id: "recent" as never, appliedAt: hoursAgo(2) },
    ]);
    const keys = db.collection("idempotency_keys");
    await keys.insertMany([
      { _id: "k-old" as never, createdAt: hoursAgo(25) },
      { _id: "k-new" as never, createdAt: hoursAgo(23) },
    ]);
    const sweep = startRetentionSweep(
      [
        { collection: processed, field: "appliedAt", keepMs: 24 * 3_600_000 },
        { collection: keys, field: "createdAt", keepMs: 24 * 3_600_000 },
      ],
      createLogger("retention-test", "silent"),
    );
    try {
      expect(await sweep.sweep(now)).toBe(2);
      expect((await processed.find().toArray()).map((d) => d._id)).toEqual(["recent"]);
      expect((await keys.find().toArray()).map((d) => d._id)).toEqual(["k-new"]);
    } finally {
      sweep.stop();
    }
  });
});
