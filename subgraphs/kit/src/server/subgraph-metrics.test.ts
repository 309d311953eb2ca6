import { describe, expect, it } from "vitest";
import { DeadLetters } from "../events/dead-letters.js";
import type { LaneDocument } from "../events/lane-lease.js";
import { Outbox } from "../events/outbox.js";
import { registered } from "../testing/events.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { laneStats, subgraphMetrics } from "./subgraph-metrics.js";

const client = useTestMongo();

describe("a subgraph's metrics (subgraph-metrics.ts)", () => {
  it("laneStats: every lane of the outbox, with its pending events, their age, dead letters and failures in a row", async () => {
    const db = client().db(`lane_stats_${Date.now().toString(36)}`);
    const outbox = new Outbox(db, "persons");
    expect(outbox.destinations).toEqual(["cards", "passwords"]);
    const letters = new DeadLetters(db, outbox.events);
    const now = Date.now();
    // Two events for cards, the older 5 s old; one for passwords dead-lettered; cards' lane has
    // failed three times in a row.
    const [first, second] = [registered(1), registered(2)].map((event) =>
      outbox.prepare(event).find((doc) => doc.destination === "cards")!,
    );
    await outbox.events.insertMany([
      { ...first!, enqueuedAt: new Date(now - 5_000) },
      { ...second!, enqueuedAt: new Date(now - 1_000) },
    ]);
    const dead = outbox.prepare(registered(3)).find((doc) => doc.destination === "passwords")!;
    await letters.collection.insertOne({ ...dead, deadAt: new Date(now) });
    await db.collection<LaneDocument>("outbox_lanes").insertOne({
      _id: "cards",
      owner: null,
      epoch: 1,
      beat: 0,
      attempts: 3,
      nextAttemptAt: new Date(now),
      lastError: "HTTP 503",
    });

    const lanes = await laneStats(outbox, letters.collection);
    expect(lanes.map(({ oldestPendingMs: _age, ...rest }) => rest)).toEqual([
      { lane: "cards", pending: 2, deadLetters: 0, failedDeliveries: 3 },
      { lane: "passwords", pending: 0, deadLetters: 1, failedDeliveries: 0 },
    ]);
    expect(lanes[0]!.oldestPendingMs).toBeGreaterThanOrEqual(5_000);
    expect(lanes[0]!.oldestPendingMs).toBeLessThan(60_000);
    expect(lanes[1]!.oldestPendingMs).toBe(0);
  });

  it("the exposition: each lane's counters from the start, the relay's counts, then the subgraph's own text", async () => {
    const metrics = subgraphMetrics({
      lanes: ["cards", "passwords"],
      own: async () => "# HELP own_metric Its own.\n# TYPE own_metric gauge\nown_metric 7\n",
    });
    metrics.relay.delivered("cards", 3);
    metrics.relay.failed("passwords");
    metrics.relay.failed("passwords");
    metrics.relay.deadLettered("passwords");
    const text = await metrics.text();
    const samples = text.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(samples).toEqual([
      'hub_events_delivered_total{lane="cards"} 3',
      'hub_events_delivered_total{lane="passwords"} 0',
      'hub_event_delivery_failures_total{lane="cards"} 0',
      'hub_event_delivery_failures_total{lane="passwords"} 2',
      'hub_events_dead_lettered_total{lane="cards"} 0',
      'hub_events_dead_lettered_total{lane="passwords"} 1',
      "own_metric 7",
    ]);
    expect(text.endsWith("own_metric 7\n")).toBe(true);
    // Each part's last line ended before the next part.
    expect(text).toContain('hub_events_dead_lettered_total{lane="passwords"} 1\n# HELP own_metric');
    // Without lanes (the feed's outbox has none): no samples but its own.
    const feedLike = await subgraphMetrics({ lanes: [], own: async () => "own_metric 1\n" }).text();
    expect(feedLike.split("\n").filter((line) => line && !line.startsWith("#"))).toEqual([
      "own_metric 1",
    ]);
  });
});
