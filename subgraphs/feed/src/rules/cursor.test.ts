import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { checkCursorAge, decodeCursor, encodeCursor } from "./cursor.js";

const DAY = 86_400_000;
const recordedAt = new Date("2026-12-01T08:00:00.000Z");

function codeOf(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    return (error as HubError).code;
  }
}

describe("feed cursors (rules/cursor.ts)", () => {
  it("round-trips the position and the time it was recorded, as an opaque url-safe string", () => {
    const raw = encodeCursor({ seq: 42, recordedAt });
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(raw)).toEqual({ seq: 42, recordedAt });
  });

  it("anything the feed did not give out is BAD_USER_INPUT", () => {
    const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const forgeries = [
      "",
      "not a cursor",
      "abc",
      Buffer.from("{").toString("base64url"),
      json(null),
      json([1, 2]),
      json({ v: 2, s: 1, t: 0 }),
      json({ v: 1, s: 0, t: 0 }),
      json({ v: 1, s: 1.5, t: 0 }),
      json({ v: 1, s: "1", t: 0 }),
      json({ v: 1, s: 1 }),
      json({ v: 1, s: 1, t: 0, extra: true }),
      encodeCursor({ seq: 42, recordedAt }) + "=",
      "A".repeat(500),
    ];
    for (const raw of forgeries)
      expect(
        codeOf(() => decodeCursor(raw)),
        raw,
      ).toBe("BAD_USER_INPUT");
  });

  it("older than the retention is CURSOR_EXPIRED; recorded in the future is forged", () => {
    const cursor = { seq: 1, recordedAt };
    const at = (ms: number) => new Date(recordedAt.getTime() + ms);
    expect(codeOf(() => checkCursorAge(cursor, at(7 * DAY - 1), 7 * DAY))).toBeNull();
    expect(codeOf(() => checkCursorAge(cursor, at(7 * DAY + 1), 7 * DAY))).toBe("CURSOR_EXPIRED");
    expect(codeOf(() => checkCursorAge(cursor, at(-60 * 60_000), 7 * DAY))).toBe("BAD_USER_INPUT");
  });
});
