import { afterEach, expect, it, vi } from "vitest";
import { flushTracing, markTracingStarted } from "./state.js";

afterEach(() => {
  markTracingStarted(null);
  vi.useRealTimers();
});

it("a stopping process's last flush sends what is queued, and gives up after 3 s on a collector that does not answer", async () => {
  let flushed = 0;
  const started = { serviceName: "cards", sampleRatio: 1, carriedSeconds: () => 0 };
  markTracingStarted({ ...started, flush: async () => void (flushed += 1) });
  await flushTracing();
  expect(flushed).toBe(1);

  vi.useFakeTimers();
  markTracingStarted({ ...started, flush: () => new Promise<void>(() => undefined) });
  let done = false;
  void flushTracing().then(() => (done = true));
  await vi.advanceTimersByTimeAsync(2_999);
  expect(done).toBe(false);
  await vi.advanceTimersByTimeAsync(1);
  expect(done).toBe(true);
});
