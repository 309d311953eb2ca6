import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { at, freshLog, logEntry } from "../testing/log-fixtures.js";
import { CardEventLog } from "./card-event-log.js";
import { BUCKET_ENTRIES } from "./log-buckets.js";

const client = useTestMongo();

// Both layouts on the embedded server: buckets are its default, entries a replica set's.
describe.each(["entries", "buckets"] as const)("the card event log, %s layout", (layout) => {
  it("numbers entries 1, 2, 3… and records each event id once however often it arrives", async () => {
    const { log } = await freshLog(client(), "feed_log", layout);
    const appended = await Promise.all(
      ["e1", "e2", "e1", "e3", "e2"].map((id) => log.append(logEntry(id, "p_1"))),
    );
    expect(appended.filter((a) => a.added)).toHaveLength(3);
    const all = await log.read(0, {}, 10);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(new Set(all.map((e) => e._id))).toEqual(new Set(["e1", "e2", "e3"]));
    expect(await log.lastNumber()).toBe(3);
    expect(await log.newestSeq()).toBe(3);
  });

  it("reads one person's entries, or some types', in log order; prunes by the time recorded", async () => {
    const { log } = await freshLog(client(), "feed_filter", layout);
    const old = new Date(at.getTime() - 10 * 86_400_000);
    await log.append(logEntry("a1", "p_a", old));
    await log.append(logEntry("b1", "p_b"));
    await log.append(logEntry("a2", "p_a"));
    expect((await log.read(0, { personId: "p_a" }, 10)).map((e) => e._id)).toEqual(["a1", "a2"]);
    expect(await log.read(0, { types: ["CARD_ISSUED"] }, 10)).toEqual([]);
    expect(await log.prune(new Date(at.getTime() - 7 * 86_400_000))).toBe(1);
    expect(await log.oldestSeq()).toBe(2);
    expect(await log.lastNumber()).toBe(3);
  });

  it("reads across many bucket lengths, through a number, after one; prunes through the middle of one", async () => {
    const { log } = await freshLog(client(), "feed_long", layout);
    const total = BUCKET_ENTRIES * 2 + 10;
    const old = new Date(at.getTime() - 10 * 86_400_000);
    for (let i = 1; i <= total; i++)
      // Ids with a dot and a dollar: field names in the bucket layout.
      await log.append(logEntry(`ev.${i}$`, `p_${i % 3}`, i <= BUCKET_ENTRIES + 5 ? old : at));
    expect((await log.append(logEntry("ev.7$", "p_1"))).added).toBe(false);
    const all = await log.read(0, {}, 1_000);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect((await log.read(60, {}, 10)).map((e) => e.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => 61 + i),
    );
    expect((await log.read(60, {}, 1_000, 70)).map((e) => e.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => 61 + i),
    );
    const p1 = await log.read(0, { personId: "p_1" }, 5);
    expect(p1.map((e) => e.seq)).toEqual([1, 4, 7, 10, 13]);
    expect(await log.newestSeq()).toBe(total);
    // The cut is inside the second bucket: its first 5 go, the rest stay readable.
    expect(await log.prune(new Date(at.getTime() - 7 * 86_400_000))).toBe(BUCKET_ENTRIES + 5);
    expect(await log.oldestSeq()).toBe(BUCKET_ENTRIES + 6);
    expect((await log.read(0, {}, 1_000)).map((e) => e.seq)).toEqual(
      Array.from({ length: total - BUCKET_ENTRIES - 5 }, (_, i) => BUCKET_ENTRIES + 6 + i),
    );
    expect(await log.prune(new Date(at.getTime() - 7 * 86_400_000))).toBe(0);
    // Appends after a prune go on numbering; everything pruned leaves an empty log.
    expect((await log.append(logEntry("late", "p_9"))).stored.seq).toBe(total + 1);
    expect(await log.prune(new Date(at.getTime() + 1))).toBe(total - BUCKET_ENTRIES - 5 + 1);
    expect(await log.oldestSeq()).toBeNull();
    expect(await log.read(0, {}, 10)).toEqual([]);
    expect(await log.lastNumber()).toBe(total + 1);
  });

  it("is chosen by the server when not asked for: buckets on the embedded one", async () => {
    const db = client().db(`feed_default_${Math.random().toString(36).slice(2, 10)}`);
    expect(await new CardEventLog(db).layout()).toBe("buckets");
  });
  // Tailing the log (one reader per process, streams joining it): commands/tail-log.test.ts.
});
