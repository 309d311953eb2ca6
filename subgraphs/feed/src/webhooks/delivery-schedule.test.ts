import { describe, expect, it } from "vitest";
import {
  backoffMs,
  decideAfterAttempt,
  DEFAULT_SCHEDULE,
  retryAfterMs,
  type AttemptResult,
  type ScheduleOptions,
} from "./delivery-schedule.js";

const HOUR = 3_600_000;
const first = new Date("2026-12-05T08:00:00.000Z");
const at = (ms: number) => new Date(first.getTime() + ms);
const options = (random: number): ScheduleOptions => ({
  ...DEFAULT_SCHEDULE,
  random: () => random,
});
const answer = (
  status: number,
  retryAfter: string | null = null,
  elapsedMs = 100,
): AttemptResult => ({
  kind: "response",
  status,
  retryAfter,
  elapsedMs,
});
const state = (attempts: number, webhookFailing = false) => ({
  attempts,
  firstAttemptAt: first,
  webhookFailing,
});

describe("webhook delivery schedule (webhooks/delivery-schedule.ts)", () => {
  it("defaults are the contract's: 15 s to answer, 1 s doubling to 1 h, for 24 h", () => {
    expect(DEFAULT_SCHEDULE).toMatchObject({
      timeoutMs: 15_000,
      baseMs: 1_000,
      capMs: HOUR,
      horizonMs: 24 * HOUR,
    });
  });

  it("a 2xx within the timeout is DELIVERED (and makes a FAILING webhook ACTIVE)", () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(decideAfterAttempt(answer(status), state(3, true), at(1_000))).toEqual({
        delivery: "DELIVERED",
        webhook: "ACTIVE",
      });
    // Later than 15 s counts as no answer.
    expect(decideAfterAttempt(answer(200, null, 15_001), state(0), at(0)).delivery).toBe(
      "RETRYING",
    );
  });

  it("410 disables the webhook", () => {
    expect(decideAfterAttempt(answer(410), state(0), at(0))).toEqual({
      delivery: "FAILED",
      webhook: "DISABLED",
    });
  });

  it("anything else, a timeout, a connection error or a refused address is RETRYING", () => {
    const results: AttemptResult[] = [
      answer(500),
      answer(404),
      answer(301),
      answer(400),
      { kind: "timeout" },
      { kind: "error", message: "ECONNREFUSED" },
      { kind: "refused", message: "loopback" },
    ];
    for (const result of results) {
      const decision = decideAfterAttempt(result, state(0), at(0), options(0.5));
      expect(decision, JSON.stringify(result)).toEqual({
        delivery: "RETRYING",
        nextAttemptAt: at(750),
        delayMs: 750,
      });
    }
  });

  it("exponential backoff with jitter: each wait longer than the one before, up to the cap", () => {
    for (const random of [0, 0.3, 0.999]) {
      const waits = Array.from({ length: 20 }, (_, i) => backoffMs(i + 1, false, options(random)));
      expect(waits[0]).toBeGreaterThanOrEqual(500);
      expect(waits[0]).toBeLessThan(1_000);
      for (let i = 1; i < waits.length; i++) {
        expect(waits[i]).toBeLessThanOrEqual(HOUR);
        if (waits[i - 1]! < HOUR / 2) expect(waits[i]).toBeGreaterThan(waits[i - 1]!);
      }
      expect(waits.at(-1)).toBeGreaterThanOrEqual(HOUR / 2);
    }
    // The jitter spreads retries of one step over half its nominal wait.
    expect(backoffMs(4, false, options(0))).toBe(4_000);
    expect(backoffMs(4, false, options(0.999))).toBeCloseTo(7_996, 0);
  });

  it("429/502/503/504 honour Retry-After (seconds or HTTP date), bounded by the first wait and the cap", () => {
    const now = at(0);
    for (const status of [429, 502, 503, 504]) {
      expect(decideAfterAttempt(answer(status, "120"), state(0), now, options(0.5))).toMatchObject({
        delivery: "RETRYING",
        delayMs: 120_000,
      });
      const date = new Date(now.getTime() + 30_000).toUTCString();
      expect(decideAfterAttempt(answer(status, date), state(0), now, options(0.5))).toMatchObject({
        delayMs: 30_000,
      });
    }
    expect(decideAfterAttempt(answer(429, "0"), state(0), now)).toMatchObject({ delayMs: 1_000 });
    expect(decideAfterAttempt(answer(503, "999999"), state(0), now)).toMatchObject({
      delayMs: HOUR,
    });
    // Unreadable, or on a status that does not ask to slow down: the backoff applies.
    expect(decideAfterAttempt(answer(503, "soon"), state(0), now, options(0.5))).toMatchObject({
      delayMs: 750,
    });
    expect(decideAfterAttempt(answer(500, "120"), state(0), now, options(0.5))).toMatchObject({
      delayMs: 750,
    });
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", now)).toBe(0);
    expect(retryAfterMs("12abc", now)).toBeNull();
  });

  it("24 h after the first attempt the delivery is FAILED and the webhook FAILING; the last retry falls on the horizon", () => {
    const late = decideAfterAttempt(
      answer(500),
      state(30),
      at(24 * HOUR - 10 * 60_000),
      options(0.9),
    );
    expect(late).toEqual({
      delivery: "RETRYING",
      nextAttemptAt: at(24 * HOUR),
      delayMs: 10 * 60_000,
    });
    const over = decideAfterAttempt(answer(500), state(31), at(24 * HOUR), options(0.5));
    expect(over).toEqual({ delivery: "FAILED", webhook: "FAILING", delayMs: 0.75 * HOUR });
  });

  it("a FAILING webhook retries at the capped backoff from its first retry", () => {
    expect(decideAfterAttempt(answer(500), state(0, true), at(0), options(0.5))).toMatchObject({
      delivery: "RETRYING",
      delayMs: 0.75 * HOUR,
    });
    expect(backoffMs(1, true, options(0))).toBe(HOUR / 2);
  });

  it("shorter schedules for tests come through options", () => {
    const quick: ScheduleOptions = { ...options(0), baseMs: 10, capMs: 40, horizonMs: 100 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, false, quick))).toEqual([5, 10, 20, 20, 20]);
    expect(decideAfterAttempt(answer(500), state(4), at(100), quick).delivery).toBe("FAILED");
  });
});
