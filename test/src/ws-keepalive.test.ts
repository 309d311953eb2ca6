import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "./support/eventually.js";
import { webSocketUrl } from "./support/feed-listeners.js";
import { feedOperation, scrape } from "./support/feed-subscriber.js";
import { TEST_SECRET, token } from "./support/hub.js";
import { startSpawnedHub, type SpawnedHub } from "./support/spawned-hub.js";

/**
 * WebSocket keep-alive at the gateway (HUB_WS_PING_MS): an idle connection gets ping frames, so
 * proxies' idle timeouts do not cut it (SSE streams get graphql-yoga's pings), and a client that
 * stops answering them (gone without a close: half-open TCP) is terminated, which lets go of its
 * stream and of its upstream feed stream. The hub as deployed (bundled processes), its gateway
 * pinging every 200 ms and holding one stream at most (HUB_MAX_STREAMS=1): a connection the
 * gateway still counts turns the next one away with 503.
 */

const PING_MS = 200;

let hub: SpawnedHub;
let cardEvents: string;

beforeAll(async () => {
  hub = await startSpawnedHub({
    secret: TEST_SECRET,
    env: { HUB_WS_PING_MS: String(PING_MS), HUB_MAX_STREAMS: "1" },
  });
  cardEvents = await feedOperation("CardEvents");
}, 240_000);

afterAll(async () => {
  await hub?.stop();
}, 60_000);

interface RawClient {
  ws: WebSocket;
  /** Ping frames received from the gateway. */
  readonly pings: number;
  /** The close code once the connection is closed (1006: cut without a close frame). */
  readonly closed: number | undefined;
  /** The gateway's messages not taken by `message` yet. */
  readonly received: Record<string, unknown>[];
  /** Whether pings are answered: with `autoPong: false` the client answers them itself. */
  answering: boolean;
  /** The next message of `type` from the gateway. */
  message(type: string): Promise<Record<string, unknown>>;
  send(message: Record<string, unknown>): void;
}

/** A `graphql-transport-ws` connection with the `ws` package's client; rejects on 503 and the like. */
function connect(autoPong = true): Promise<RawClient> {
  const ws = new WebSocket(webSocketUrl(hub.url), "graphql-transport-ws", { autoPong });
  let pings = 0;
  let closed: number | undefined;
  const received: Record<string, unknown>[] = [];
  const client: RawClient = {
    ws,
    get pings() {
      return pings;
    },
    get closed() {
      return closed;
    },
    received,
    answering: true,
    async message(type) {
      let found: Record<string, unknown> | undefined;
      await expect
        .poll(() => (found = received.find((m) => m["type"] === type)), { timeout: 10_000 })
        .toBeDefined();
      received.splice(received.indexOf(found!), 1);
      return found!;
    },
    send: (message) => ws.send(JSON.stringify(message)),
  };
  ws.on("ping", (data) => {
    pings += 1;
    if (!autoPong && client.answering) ws.pong(data);
  });
  ws.on("message", (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.once("close", (code) => (closed = code));
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(client));
    ws.once("error", reject);
  });
}

/**
 * Connected (the gateway acknowledged the token) and subscribed to every card event to come: in
 * this file none comes, the subscription stays idle. Retried while the gateway still counts the
 * previous test's connection (503 at HUB_MAX_STREAMS=1).
 */
async function subscribed(autoPong = true): Promise<RawClient> {
  const client = await eventually(() => connect(autoPong), 10_000, 100);
  client.send({ type: "connection_init", payload: { authorization: `Bearer ${await token()}` } });
  await client.message("connection_ack");
  client.send({ id: "1", type: "subscribe", payload: { query: cardEvents, variables: {} } });
  return client;
}

/** Subscriptions the feed serves: the gateway's upstream streams (its /metrics). */
async function feedSubscriptions(): Promise<number> {
  const samples = await scrape(`http://127.0.0.1:${hub.processes["feed"]!.port}/metrics`);
  return samples.get("hub_feed_subscriptions_open") ?? Number.NaN;
}

/** The gateway's answer to another upgrade: `open`, or the error (503 while its one stream is held). */
async function anotherConnection(): Promise<string> {
  try {
    const client = await connect();
    client.ws.close();
    return "open";
  } catch (error) {
    return (error as Error).message;
  }
}

describe("a fresh gateway over WebSocket", () => {
  it("answers an operation sent over WebSocket before any HTTP request came", async () => {
    // Nothing has asked this gateway anything over HTTP yet (its readiness probe aside).
    const client = await eventually(() => connect(), 10_000, 100);
    try {
      client.send({
        type: "connection_init",
        payload: { authorization: `Bearer ${await token()}` },
      });
      await client.message("connection_ack");
      client.send({
        id: "2",
        type: "subscribe",
        payload: { query: "query FirstContact { cardEventLog(first: 1) { hasMore } }" },
      });
      const next = await client.message("next");
      expect(next).toMatchObject({ id: "2", payload: { data: { cardEventLog: {} } } });
      expect((next["payload"] as { errors?: unknown }).errors).toBeUndefined();
    } finally {
      client.ws.close();
    }
  });
});

describe("WebSocket keep-alive at the gateway (HUB_WS_PING_MS)", () => {
  it("pings an idle connection, which stays open while it answers", async () => {
    const client = await subscribed();
    try {
      await expect
        .poll(() => client.pings, { timeout: 1_500, interval: 20 })
        .toBeGreaterThanOrEqual(2);
      // Answered (the `ws` client pongs by itself): pinged again rather than cut.
      await expect
        .poll(() => client.pings, { timeout: 1_500, interval: 20 })
        .toBeGreaterThanOrEqual(4);
      expect(client.closed).toBeUndefined();
      // The subscription is open all along: neither refused nor ended.
      expect(client.received).toEqual([]);
    } finally {
      client.ws.close();
    }
  });

  it("terminates a connection that stops answering pings, and lets go of its streams", async () => {
    const client = await subscribed(false);
    try {
      // Held: the feed serves its subscription, and the gateway counts its one stream.
      await eventually(async () => expect(await feedSubscriptions()).toBe(1));
      expect(await anotherConnection()).toBe("Unexpected server response: 503");
      const answered = client.pings;
      await expect
        .poll(() => client.pings, { timeout: 3_000, interval: 20 })
        .toBeGreaterThan(answered + 2);
      expect(client.closed).toBeUndefined();

      // Gone without a close, as far as the gateway can tell: pings go unanswered.
      client.answering = false;
      await expect.poll(() => client.closed, { timeout: PING_MS * 15, interval: 20 }).toBe(1006);
      await eventually(async () => expect(await feedSubscriptions()).toBe(0));
      await eventually(async () => expect(await anotherConnection()).toBe("open"));
    } finally {
      client.ws.terminate();
    }
  });
});
