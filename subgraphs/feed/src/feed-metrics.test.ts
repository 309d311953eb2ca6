import { describe, expect, it } from "vitest";
import { tailLog } from "./commands/tail-log.js";
import { feedMetrics } from "./feed-metrics.js";
import type { CardEventDocument } from "./store/card-event-document.js";
import { LogTail, type TailSource } from "./store/log-tail.js";
import { logEntry } from "./testing/log-fixtures.js";

/** Entry `seq` of the log. */
const entry = (seq: number): CardEventDocument => ({ ...logEntry(`e${seq}`, "p_1"), seq });

/** The samples of an exposition, by name; and every name has its HELP and TYPE lines. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.trim().split("\n")) {
    if (line.startsWith("#")) continue;
    const [name, value] = line.split(" ");
    expect(text).toContain(`# HELP ${name} `);
    expect(text).toMatch(new RegExp(`# TYPE ${name} (gauge|counter)\\n`));
    samples.set(name!, Number(value));
  }
  return samples;
}

describe("the feed's own /metrics (feed-metrics.ts)", () => {
  it("open subscriptions, the largest lag behind the log's newest entry, the tail's own lag; Prometheus names and text format", async () => {
    const entries: CardEventDocument[] = [];
    let newest = 0;
    const source: TailSource = {
      read: async (after) => entries.filter((e) => e.seq > after),
      newestSeq: async () => newest,
    };
    const tail = new LogTail({ source, pollMs: 3_600_000, capacity: 10 });
    const metrics = feedMetrics({ tail, log: source });
    const none = parse(await metrics());
    expect(none.get("hub_feed_subscriptions_open")).toBe(0);
    expect(none.get("hub_feed_subscription_max_lag_entries")).toBe(0);
    // No webhook deliverer given: no webhook figures rather than made-up zeros.
    expect(none.has("hub_webhook_delivery_lag_seconds")).toBe(false);

    const slow = tailLog({ log: source, tail, filter: {}, afterSeq: 0 });
    const idle = tailLog({ log: source, tail, filter: { personId: "p_2" }, afterSeq: 0 });
    void idle.next();
    await tail.poll();
    for (let seq = 1; seq <= 4; seq++) {
      entries.push(entry(seq));
      newest = seq;
      tail.appended(entry(seq));
    }
    // Two more from another replica, not read by this process yet.
    entries.push(entry(5), entry(6));
    newest = 6;
    await slow.next();
    const some = parse(await metrics());
    expect(some.get("hub_feed_subscriptions_open")).toBe(2);
    expect(some.get("hub_feed_subscriptions_opened_total")).toBe(2);
    // `slow` was handed entry 1 of 6; `idle` wants none of them (it is only behind the tail).
    expect(some.get("hub_feed_subscription_max_lag_entries")).toBe(5);
    expect(some.get("hub_feed_log_newest_seq")).toBe(6);
    expect(some.get("hub_feed_tail_lag_entries")).toBe(2);
    expect(some.get("hub_feed_buffer_entries")).toBe(4);
    expect(some.get("hub_feed_subscriptions_catching_up")).toBe(0);

    await slow.return?.();
    await idle.return?.();
    expect(parse(await metrics()).get("hub_feed_subscriptions_open")).toBe(0);
    tail.stop();
  });

  it("the webhook deliverer's oldest pending delivery, in seconds, when it is given", async () => {
    const source: TailSource = { read: async () => [], newestSeq: async () => 0 };
    const tail = new LogTail({ source, pollMs: 3_600_000, capacity: 10 });
    const metrics = feedMetrics({
      tail,
      log: source,
      webhooks: {
        stats: async () => ({ webhooks: 3, failing: 1, pending: 2, oldestPendingMs: 2_500 }),
      },
    });
    const samples = parse(await metrics());
    expect(samples.get("hub_webhook_delivery_lag_seconds")).toBe(2.5);
    expect(samples.get("hub_webhooks_pending")).toBe(2);
    expect(samples.get("hub_webhooks_failing")).toBe(1);
    tail.stop();
  });
});
