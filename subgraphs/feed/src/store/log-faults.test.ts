import { Collection } from "mongodb";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { FeedReader } from "../commands/feed-reader.js";
import { encodeCursor } from "../rules/cursor.js";
import { at, freshLog, logEntry } from "../testing/log-fixtures.js";
import { LogTail } from "./log-tail.js";

/**
 * What a reader of the log meets when the database does not show what it was told (a new
 * primary's majority snapshot behind the old one's) or when the retention prunes under it.
 */
const client = useTestMongo();
const DAY = 86_400_000;

describe("a page read through a number the database does not show yet (replica-set layout)", () => {
  it("waits until the database shows that number, so a short page never lets a reader skip entries", async () => {
    const { log } = await freshLog(client(), "feed_proof", "entries");
    for (let n = 1; n <= 3; n++) await log.append(logEntry(`e${n}`, "p_other"));
    // The reader was told of entry 5 (another replica's append, the tail's newest), but this
    // snapshot ends at 3: answered now, the filtered page would be empty and the reader would
    // count 4 and 5 as read.
    const reading = log.read(0, { personId: "p_mine" }, 100, 5);
    const settled = { value: false };
    void reading.then(() => (settled.value = true));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(settled.value).toBe(false);
    await log.append(logEntry("mine", "p_mine"));
    await log.append(logEntry("e5", "p_other"));
    expect((await reading).map((e) => [e._id, e.seq])).toEqual([["mine", 4]]);
  });

  it("a number that never shows ends the read with SERVICE_UNAVAILABLE (the client resumes), not a short page", async () => {
    const { log } = await freshLog(client(), "feed_proof", "entries");
    await log.append(logEntry("e1", "p_other"));
    await expect(log.read(0, { personId: "p_mine" }, 100, 9)).rejects.toMatchObject({
      extensions: { code: "SERVICE_UNAVAILABLE" },
    });
    // A full page is not waited for.
    expect(await log.read(0, {}, 1, 9)).toHaveLength(1);
  });

  it("a log that looks empty is waited for too (a lagging snapshot of a pruned log), unless the pruning's mark covers the number", async () => {
    const { log } = await freshLog(client(), "feed_proof", "entries");
    const old = new Date(at.getTime() - 10 * DAY);
    for (let n = 1; n <= 3; n++) await log.append(logEntry(`old${n}`, "p_1", old));
    await log.prune(new Date(at.getTime() - 7 * DAY));
    // Pruned through 3: nothing to wait for.
    expect(await log.read(0, { personId: "p_mine" }, 100, 3)).toEqual([]);
    // Told of 5, which this (empty) snapshot does not show: not counted as read.
    await expect(log.read(3, { personId: "p_mine" }, 100, 5)).rejects.toMatchObject({
      extensions: { code: "SERVICE_UNAVAILABLE" },
    });
  });
});

describe.each(["entries", "buckets"] as const)(
  "the retention pruning under a reader, %s layout",
  (layout) => {
    it("a read after a position the retention then pruned past is CURSOR_EXPIRED, not a page with a hole", async () => {
      const { log } = await freshLog(client(), "feed_prune", layout);
      const old = new Date(at.getTime() - 10 * DAY);
      for (let n = 1; n <= 4; n++) await log.append(logEntry(`old${n}`, "p_1", old));
      for (let n = 5; n <= 6; n++) await log.append(logEntry(`new${n}`, "p_1"));
      // A reader at 2 (its cursor accepted a moment ago); the retention prunes 1–4 meanwhile.
      await log.prune(new Date(at.getTime() - 7 * DAY));
      expect((await log.read(2, {}, 10)).map((e) => e.seq)).toEqual([5, 6]);
      await expect(log.readAfterCursor(2, {}, 10)).rejects.toMatchObject({
        extensions: { code: "CURSOR_EXPIRED" },
      });
      // At or past the pruned ones, and from the start: whole.
      expect((await log.readAfterCursor(4, {}, 10)).map((e) => e.seq)).toEqual([5, 6]);
      expect((await log.readAfterCursor(0, {}, 10)).map((e) => e.seq)).toEqual([5, 6]);
    });

    it("marks how far it prunes before it deletes anything", async () => {
      const { db, log } = await freshLog(client(), "feed_prune_mark", layout);
      const old = new Date(at.getTime() - 10 * DAY);
      for (let n = 1; n <= 3; n++) await log.append(logEntry(`old${n}`, "p_1", old));
      await log.append(logEntry("new", "p_1"));
      const marks: number[] = [];
      const counter = db.collection<{ _id: string; pruned?: number }>("card_event_counter");
      // Whatever each layout deletes or rewrites entries with, the mark is already there.
      const methods = ["deleteMany", "deleteOne", "replaceOne"] as const;
      const originals = methods.map((method) => Collection.prototype[method]);
      methods.forEach((method, i) => {
        const original = originals[i] as (this: Collection, ...args: unknown[]) => unknown;
        Object.assign(Collection.prototype, {
          async [method](this: Collection, ...args: unknown[]) {
            if (this.collectionName !== "card_event_counter")
              marks.push((await counter.findOne({ _id: "card_events" }))?.pruned ?? 0);
            return original.apply(this, args);
          },
        });
      });
      try {
        await log.prune(new Date(at.getTime() - 7 * DAY));
      } finally {
        methods.forEach((method, i) =>
          Object.assign(Collection.prototype, { [method]: originals[i] }),
        );
      }
      expect(marks.length).toBeGreaterThan(0);
      expect(marks.every((mark) => mark === 3)).toBe(true);
      expect(await log.prunedThrough()).toBe(3);
    });
  },
);

describe("cursors are judged by the clock entries are dated by", () => {
  it("a cursor dated by the database's clock, ahead of this host's, is accepted", async () => {
    const { log } = await freshLog(client(), "feed_clock", "buckets");
    const ahead = 10 * 60_000;
    const { stored } = await log.append(logEntry("e1", "p_1", new Date(Date.now() + ahead)));
    const tail = new LogTail({ source: log, pollMs: 60_000, capacity: 10 });
    try {
      const reader = new FeedReader(log, tail, 7 * DAY, () => new Date(Date.now() + ahead));
      const cursor = encodeCursor({ seq: stored.seq, recordedAt: stored.recordedAt });
      expect(await reader.positionOf(cursor)).toBe(1);
    } finally {
      tail.stop();
    }
  });
});
