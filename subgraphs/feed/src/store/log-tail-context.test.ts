import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, it } from "vitest";
import type { CardEventDocument } from "./card-event-document.js";
import { LogTail } from "./log-tail.js";

/**
 * The tail's polls belong to the process, not to the request that woke it: a trace (or any
 * request-scoped context) of the first subscription must not gain a database read every poll for
 * as long as the process runs.
 */
describe("the log tail's polls run outside the context of whoever woke it", () => {
  it("reads started by a subscription made inside a request's context see no request", async () => {
    const request = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const tail = new LogTail({
      source: {
        read: async (): Promise<CardEventDocument[]> => {
          seen.push(request.getStore());
          return [];
        },
        newestSeq: async () => {
          seen.push(request.getStore());
          return 0;
        },
      },
      pollMs: 10,
      capacity: 10,
    });
    try {
      request.run("the first subscriber's request", () => tail.subscribe({}, 0));
      // The first poll (woken by the subscription) and the ones each schedules after it.
      await expect.poll(() => seen.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(4);
      expect(seen.filter((store) => store !== undefined)).toEqual([]);
    } finally {
      tail.stop();
    }
  });
});
