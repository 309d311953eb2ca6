import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import type { CardEventType } from "../rules/card-event-types.js";
import { decodeCursor } from "../rules/cursor.js";
import { CardEventLog } from "../store/card-event-log.js";
import { cardEventSource } from "./card-event-source.js";

const client = useTestMongo();
const at = new Date("2026-12-05T08:00:00.000Z");

describe("the feed's log as webhooks read it (webhooks/card-event-source.ts)", () => {
  it("entries after a position, in log order, filtered by type, mapped field by field", async () => {
    const log = new CardEventLog(client().db("wh_source"));
    await log.ensureIndexes();
    const source = cardEventSource(log);
    expect(await source.newest()).toBe(0);
    const types: CardEventType[] = ["LOSS_REPORTED", "CARD_CANCELLED", "LOSS_REPORTED"];
    for (const [i, type] of types.entries())
      await log.append({
        _id: `ev_${i + 1}`,
        type,
        cardId: "c_1",
        personId: "p_1",
        statusBefore: "NORMAL",
        statusAfter: "LOST",
        occurredAt: at,
        channel: "COUNTER",
        source: "cards",
        sourceType: "CardStatusChanged",
        recordedAt: at,
      });
    expect(await source.newest()).toBe(3);
    const all = await source.after(0, 10);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(all[0]).toEqual({
      seq: 1,
      eventId: "ev_1",
      cursor: all[0]!.cursor,
      type: "LOSS_REPORTED",
      occurredAt: at,
      channel: "COUNTER",
      statusBefore: "NORMAL",
      statusAfter: "LOST",
      cardId: "c_1",
      personId: "p_1",
      recordedAt: at,
    });
    expect(decodeCursor(all[0]!.cursor)).toEqual({ seq: 1, recordedAt: at });
    expect((await source.after(1, 10, ["LOSS_REPORTED"])).map((e) => e.eventId)).toEqual(["ev_3"]);
    expect((await source.after(0, 1, null)).map((e) => e.eventId)).toEqual(["ev_1"]);
  });
});
