import { describe, expect, it } from "vitest";
import { SharedCalls } from "./shared-calls.js";

describe("shared calls", () => {
  it("starts one call per key while it is in flight, and forgets it once it settles", async () => {
    const calls = new SharedCalls<number>();
    let started = 0;
    const start = () => {
      started += 1;
      return new Promise<number>((resolve) => setTimeout(() => resolve(started), 10));
    };
    const [a, b, c] = await Promise.all([
      calls.run("k", start),
      calls.run("k", start),
      calls.run("other", start),
    ]);
    expect(started).toBe(2);
    expect(a).toBe(b);
    expect(c).not.toBe(undefined);
    expect(calls.size).toBe(0);
    await calls.run("k", start);
    expect(started).toBe(3);
  });

  it("shares a failure with every waiter and forgets it too", async () => {
    const calls = new SharedCalls<number>();
    const failing = () => Promise.reject(new Error("down"));
    const results = await Promise.allSettled([calls.run("k", failing), calls.run("k", failing)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(calls.size).toBe(0);
  });
});
