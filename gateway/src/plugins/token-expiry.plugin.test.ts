import { describe, expect, it } from "vitest";
import { tokenExpiredResult, untilExpiry } from "./token-expiry.plugin.js";

/** A source that yields `values`, then waits forever (an idle subscription); records its return. */
function idleSource<T>(values: T[]) {
  const state = { returned: false };
  const source: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => source,
    next: () =>
      values.length > 0
        ? Promise.resolve({ done: false, value: values.shift()! })
        : new Promise<IteratorResult<T>>(() => undefined),
    return: async () => {
      state.returned = true;
      return { done: true, value: undefined };
    },
  };
  return { source, state };
}

describe("untilExpiry", () => {
  it("passes events on until the expiry, then ends with the last value and releases an idle source", async () => {
    const { source, state } = idleSource(["a", "b"]);
    const stream = untilExpiry(source, Date.now() + 80, () => "expired");
    expect(await stream.next()).toEqual({ done: false, value: "a" });
    expect(await stream.next()).toEqual({ done: false, value: "b" });
    // The source has nothing more and never will: the expiry ends the wait.
    expect(await stream.next()).toEqual({ done: false, value: "expired" });
    expect(state.returned).toBe(true);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("ends at once for a token already past its expiry", async () => {
    const { source } = idleSource(["a"]);
    const stream = untilExpiry(source, Date.now() - 1, () => "expired");
    expect((await stream.next()).value).toBe("expired");
  });

  it("a source that ends first ends the stream; closing it releases the source", async () => {
    async function* two() {
      yield 1;
      yield 2;
    }
    const ended = untilExpiry(two(), Date.now() + 60_000, () => 0);
    const seen: number[] = [];
    for await (const value of ended) seen.push(value);
    expect(seen).toEqual([1, 2]);

    const { source, state } = idleSource([1]);
    const closed = untilExpiry(source, Date.now() + 60_000, () => 0);
    await closed.next();
    await closed.return!();
    expect(state.returned).toBe(true);
    expect(await closed.next()).toEqual({ done: true, value: undefined });
  });

  it("streams on one timer each end at their own expiry, in any order; a closed one leaves it", async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const start = Date.now();
    const ends = [120, 40, 80, 160, 60].map((ms) => {
      const { source, state } = idleSource<string>([]);
      const stream = untilExpiry(source, start + ms, () => `expired at ${ms}`);
      return {
        ms,
        stream,
        state,
        ended: stream.next().then((step) => [step, Date.now()] as const),
      };
    });
    // One timer for all five (the earliest expiry's), not one each.
    const timersWaiting = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(timersWaiting - timersBefore).toBeLessThanOrEqual(1);
    // Closed before its expiry: it ends as closed, and its source is released.
    await ends[3]!.stream.return!();
    expect(ends[3]!.state.returned).toBe(true);
    expect((await ends[3]!.ended)[0]).toEqual({ done: true, value: undefined });
    for (const { ms, state, ended } of ends.filter((_, i) => i !== 3)) {
      const [step, at] = await ended;
      expect(step).toEqual({ done: false, value: `expired at ${ms}` });
      expect(at).toBeGreaterThanOrEqual(start + ms);
      expect(state.returned).toBe(true);
    }
  });

  it("the last result is UNAUTHENTICATED", () => {
    expect(tokenExpiredResult().errors?.[0]?.extensions["code"]).toBe("UNAUTHENTICATED");
  });
});
