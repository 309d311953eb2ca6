import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { at, freshLog, logEntry } from "../testing/log-fixtures.js";
import type { NewLogEntry } from "./card-event-log.js";
import { BUCKET_ENTRIES, BucketLog, bucketOf, idKey } from "./log-buckets.js";

const client = useTestMongo();

/** p_1's entry, of card c_1. */
const entry = (id: string, recordedAt = at): NewLogEntry => ({
  ...logEntry(id, "p_1", recordedAt),
  cardId: "c_1",
});

// The layout's behaviour as a log: store/card-event-log.test.ts (both layouts).
describe("the log in buckets (store/log-buckets.ts)", () => {
  it("numbers 1…64 into bucket 0, 65 into bucket 1; escapes what a field name cannot hold", () => {
    expect([1, 64, 65, 128, 129].map(bucketOf)).toEqual([0, 0, 1, 1, 2]);
    expect(BUCKET_ENTRIES).toBe(64);
    expect(idKey("a.b$c%d")).toBe("a%2Eb%24c%25d");
    expect(idKey("8c1f9e6a-3b1d-4f7a-9c2e-1d3e5f7a9b0c")).toBe(
      "8c1f9e6a-3b1d-4f7a-9c2e-1d3e5f7a9b0c",
    );
  });

  it("a read from before the pruned start walks to what is kept, one bucket per query", async () => {
    const { db } = await freshLog(client(), "feed_buckets");
    const log = new BucketLog(db, 1);
    const old = new Date(at.getTime() - 10 * 86_400_000);
    const total = BUCKET_ENTRIES * 3 + 2;
    for (let i = 1; i <= total; i++)
      await log.append(entry(`e${i}`, i <= BUCKET_ENTRIES * 2 + 1 ? old : at));
    expect(await log.prune(new Date(at.getTime() - 86_400_000))).toBe(BUCKET_ENTRIES * 2 + 1);
    // Buckets 0 and 1 are gone: the first ranges are empty, the counter says to go on.
    const kept = await log.read(0, {}, 1_000);
    expect(kept.map((e) => e.seq)).toEqual(
      Array.from({ length: total - BUCKET_ENTRIES * 2 - 1 }, (_, i) => BUCKET_ENTRIES * 2 + 2 + i),
    );
    // Past the end: an empty range and nothing after it.
    expect(await log.read(total, {}, 10)).toEqual([]);
    expect(await log.read(total + 500, {}, 10)).toEqual([]);
    expect(await log.oldestSeq()).toBe(BUCKET_ENTRIES * 2 + 2);
    expect(await log.newestSeq()).toBe(total);
  });
});
