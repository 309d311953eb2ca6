import { useTestMongo } from "@hub/kit/testing";
import { prepareTransactions } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { CardEventLog, type NewLogEntry } from "./card-event-log.js";

const client = useTestMongo();
const at = new Date("2026-12-01T08:00:00.000Z");

async function freshLog(name: string): Promise<CardEventLog> {
  const db = client().db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  const log = new CardEventLog(db);
  await Promise.all([log.ensureIndexes(), prepareTransactions(db)]);
  return log;
}

function entry(id: string, personId: string, recordedAt = at): NewLogEntry {
  return {
    _id: id,
    type: "LOSS_REPORTED",
    cardId: `c_${personId}`,
    personId,
    statusBefore: "NORMAL",
    statusAfter: "TEMPORARY_LOSS",
    occurredAt: at,
    channel: "COUNTER",
    source: "cards",
    sourceType: "CardStatusChanged",
    recordedAt,
  };
}

describe("the card event log (store/card-event-log.ts)", () => {
  it("numbers entries 1, 2, 3… and records each event id once however often it arrives", async () => {
    const log = await freshLog("feed_log");
    const appended = await Promise.all(
      ["e1", "e2", "e1", "e3", "e2"].map((id) => log.append(entry(id, "p_1"))),
    );
    expect(appended.filter((a) => a.added)).toHaveLength(3);
    const all = await log.read(0, {}, 10);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(new Set(all.map((e) => e._id))).toEqual(new Set(["e1", "e2", "e3"]));
    expect(await log.lastNumber()).toBe(3);
    expect(await log.newestSeq()).toBe(3);
  });

  it("reads one person's entries, or some types', in log order; prunes by the time recorded", async () => {
    const log = await freshLog("feed_filter");
    const old = new Date(at.getTime() - 10 * 86_400_000);
    await log.append(entry("a1", "p_a", old));
    await log.append(entry("b1", "p_b"));
    await log.append(entry("a2", "p_a"));
    expect((await log.read(0, { personId: "p_a" }, 10)).map((e) => e._id)).toEqual(["a1", "a2"]);
    expect(await log.read(0, { types: ["CARD_ISSUED"] }, 10)).toEqual([]);
    expect(await log.prune(new Date(at.getTime() - 7 * 86_400_000))).toBe(1);
    expect(await log.oldestSeq()).toBe(2);
    expect(await log.lastNumber()).toBe(3);
  });
  // Tailing the log (one reader per process, streams joining it): commands/tail-log.test.ts.
});
