import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startReplicaTopology,
  type Replica,
  type ReplicaTopology,
} from "../../scripts/lib/replicas.js";
import { codeOf, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import {
  feedOperation,
  scrape,
  subscribeCardEvents,
  type CardEventView,
} from "./support/feed-subscriber.js";
import { graphql, TEST_SECRET, token } from "./support/hub.js";

/**
 * The status-change feed with two gateways and two feed replicas (issue 25, "Several gateway and
 * feed replicas"): the replicas topology — every subgraph twice, HAProxy in front of the gateways
 * and of each subgraph's replicas, one embedded database shared (HUB_EMBEDDED_SHARED). Each feed
 * replica tails the log itself; what the other appended reaches it through its poll.
 */

let topology: ReplicaTopology;
let subscribeDocument: string;
let logDocument: string;

beforeAll(async () => {
  topology = await startReplicaTopology({
    secret: TEST_SECRET,
    mongoUri: process.env["TEST_MONGODB_URI"],
    dbPrefix: `fr${Date.now().toString(36)}`,
    // Registrations and cards are made by the tests: no demo data to wait for.
    seed: false,
  });
  [subscribeDocument, logDocument] = await Promise.all([
    feedOperation("CardEvents"),
    feedOperation("CardEventLog"),
  ]);
}, 240_000);

afterAll(async () => {
  await topology?.stop();
}, 60_000);

const replica = (name: string): Replica => {
  const found = topology.replicas.find((r) => r.name === name);
  if (!found) throw new Error(`no replica ${name}`);
  return found;
};
/** A gateway replica's own address (not the balancer's): which one a client uses matters here. */
const gateway = (n: 1 | 2) => `http://127.0.0.1:${replica(`gateway-${n}`).port}/graphql`;
const feedReplicas = () =>
  topology.replicas.filter(
    (r) => r.service === "feed" && r.child.exitCode === null && r.child.signalCode === null,
  );
const metricsOf = (r: Replica) => scrape(`http://127.0.0.1:${r.port}/metrics`);

/** Each live feed replica's open subscriptions, by replica name. */
async function openStreams(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const r of feedReplicas())
    counts.set(r.name, (await metricsOf(r)).get("hub_feed_subscriptions_open") ?? Number.NaN);
  return counts;
}

/** The person's events in the log after `after` (through gateway 2), once there are `count`. */
async function logged(personId: string, count: number, after?: string): Promise<CardEventView[]> {
  return eventually(async () => {
    const answer = await graphql<{ cardEventLog: { events: CardEventView[] } }>(
      gateway(2),
      logDocument,
      { personId, after, first: 500 },
      await token(),
    );
    expect(answer.errors).toBeUndefined();
    const events = answer.data!.cardEventLog.events;
    expect(events.length).toBeGreaterThanOrEqual(count);
    return events;
  }, 20_000);
}

/**
 * No feed replica serves a stream. Through the balancer a stream the client left is let go of
 * late: the gateway's side of it stays open until the feed's pings (every 12 s) find it gone, so
 * this waits up to 40 s (direct, without a balancer, it takes under a second: feed-resources.test.ts).
 */
async function noStreams(): Promise<void> {
  await eventually(
    async () => expect([...(await openStreams()).values()]).toEqual([0, 0]),
    40_000,
    250,
  );
}

async function change(operation: string, input: Record<string, unknown>) {
  const answer = await run(gateway(2), operation, input);
  expect(answer.errors, `${operation}: ${String(codeOf(answer))}`).toBeUndefined();
}

describe("the feed with two gateways and two feed replicas on one database", () => {
  it("a change made through gateway 2 reaches a subscriber on gateway 1; the feed replica serving the stream shows it in its /metrics", async () => {
    const { personId, cardId } = await personWithCard(gateway(2));
    const [issued] = await logged(personId, 1);
    const subscriber = subscribeCardEvents(
      gateway(1),
      subscribeDocument,
      { personId, after: issued!.cursor },
      await token(),
    );
    try {
      // One stream, held by one of the two feed replicas.
      const held = await eventually(async () => {
        const counts = await openStreams();
        expect([...counts.values()].sort()).toEqual([0, 1]);
        return counts;
      });
      await change("CollectCard", { cardId });
      const [event] = await eventually(async () => {
        expect(subscriber.errors).toEqual([]);
        expect(subscriber.events).toHaveLength(1);
        return subscriber.events;
      });
      expect(event).toMatchObject({ type: "CARD_COLLECTED", card: { id: cardId } });
      // Caught up: the serving replica's subscriptions lag no entry behind the log.
      const serving = replica([...held].find(([, open]) => open === 1)![0]);
      await eventually(async () => {
        const samples = await metricsOf(serving);
        expect(samples.get("hub_feed_subscription_max_lag_entries")).toBe(0);
        expect(samples.get("hub_feed_tail_lag_entries")).toBe(0);
        expect(samples.get("hub_feed_log_newest_seq")).toBeGreaterThanOrEqual(2);
      });
    } finally {
      subscriber.close();
    }
    await noStreams();
  }, 90_000);

  it("the feed replica serving a stream is killed (SIGKILL) mid-stream: the client resumes with its last cursor through the other and gets every event committed meanwhile, no gap, no duplicate", async () => {
    const { personId, cardId } = await personWithCard(gateway(2));
    const [issued] = await logged(personId, 1);
    const bearer = await token();
    // The one stream open will be this test's: the replica holding it is the one to kill.
    await noStreams();
    const first = subscribeCardEvents(
      gateway(1),
      subscribeDocument,
      { personId, after: issued!.cursor },
      bearer,
    );
    const serving = await eventually(async () => {
      const held = [...(await openStreams())].filter(([, open]) => open === 1);
      expect(held).toHaveLength(1);
      return replica(held[0]![0]);
    });

    // A channel keeps changing the card through gateway 2 while the replica dies.
    const changes = 12;
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < changes; i++) {
        await change(i % 2 === 0 ? "ReportCardLoss" : "WithdrawLossReport", {
          cardId,
          ...(i % 2 === 0 ? { temporary: true } : {}),
        });
        written += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    let second: ReturnType<typeof subscribeCardEvents> | undefined;
    try {
      await eventually(async () => expect(first.events.length).toBeGreaterThanOrEqual(2));
      serving.child.kill("SIGKILL");
      const killedAfter = written;
      // The cut reaches the client through the gateway: its stream ends.
      await eventually(async () => expect(first.ended).toBe(true), 15_000);
      first.close();
      // It ends with an error (SERVICE_UNAVAILABLE from the gateway), not as if it were done.
      expect(first.errors.length).toBeGreaterThan(0);
      const last = first.events.at(-1)!;
      second = subscribeCardEvents(
        gateway(1),
        subscribeDocument,
        { personId, after: last.cursor },
        bearer,
      );
      await writing;
      expect(written).toBe(changes);
      // Changes were still being committed after the kill: the resume has to carry them.
      expect(killedAfter).toBeLessThan(changes);

      const expected = await logged(personId, changes, issued!.cursor);
      expect(expected).toHaveLength(changes);
      const resumed = second;
      await eventually(
        async () =>
          expect(first.events.length + resumed.events.length).toBeGreaterThanOrEqual(changes),
        20_000,
      );
      expect(resumed.errors).toEqual([]);
      const received = [...first.events, ...resumed.events].map((e) => e.eventId);
      // Exactly the log, in its order: nothing missing, nothing twice.
      expect(received).toEqual(expected.map((e) => e.eventId));
      expect(new Set(received).size).toBe(received.length);
      expect(resumed.events.every((e) => e.card?.id === cardId)).toBe(true);

      // The survivor holds the resumed stream, caught up.
      const survivor = feedReplicas().find((r) => r.name !== serving.name)!;
      await eventually(async () => {
        const samples = await metricsOf(survivor);
        expect(samples.get("hub_feed_subscriptions_open")).toBe(1);
        expect(samples.get("hub_feed_subscription_max_lag_entries")).toBe(0);
      });
    } finally {
      first.close();
      second?.close();
      await writing.catch(() => undefined);
    }
  }, 120_000);
});
