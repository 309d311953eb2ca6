import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { runTransaction } from "../mongo/transactions.js";
import { EffectScope, settleEffects } from "./effects.js";
import { parseEventBatch } from "./event-batch.js";
import { Inbox } from "./inbox.js";
import { Outbox } from "./outbox.js";
import { startOutboxRelay, type RelayOptions } from "./relay.js";

const client = useTestMongo();

/** A consumer subgraph stand-in: a real HTTP endpoint applying events through a real Inbox. */
async function consumer(dbName: string, options: { failFirst?: number } = {}) {
  const db = client().db(dbName);
  const applied = db.collection<{ _id: string; n: number; order: number }>("applied");
  let order = 0;
  let deliveries = 0;
  let failures = options.failFirst ?? 0;
  const inbox = new Inbox({
    Numbered: async (event) => {
      await applied.insertOne({ _id: event.id, n: Number(event.payload["n"]), order: order++ });
    },
  });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      deliveries += 1;
      if (failures > 0) {
        failures -= 1;
        response.writeHead(503).end();
        return;
      }
      const events = parseEventBatch(Buffer.concat(chunks).toString()) ?? [];
      inbox.applyBatch(events).then(
        ({ applied }) => response.writeHead(200).end(JSON.stringify({ applied, pending: {} })),
        () => response.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    applied,
    deliveries: () => deliveries,
    close: () => new Promise((r) => server.close(r)),
  };
}

function addNumbered(
  outbox: Outbox,
  session: import("mongodb").ClientSession,
  n: number,
  destinations: string[] = ["consumer"],
  scope: EffectScope | null = null,
) {
  return outbox.add(
    session,
    { type: "Numbered", payload: { n }, actor: "t", channel: "COUNTER", occurredAt: new Date() },
    destinations,
    scope,
  );
}

const source = (name: string) =>
  new Outbox(client().db(`${name}_${Date.now()}`), "source", ["consumer", "stuck"]);

async function enqueue(
  outbox: Outbox,
  count: number,
  destinations: string[] = ["consumer"],
): Promise<void> {
  for (let n = 0; n < count; n++) {
    await runTransaction(outbox.events.db, (session) =>
      addNumbered(outbox, session, n, destinations),
    );
  }
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A relay as these tests run it: a fixed service token, no logs, and the options under test. */
function testRelay(
  outbox: Outbox,
  target: RelayOptions["target"],
  options: Omit<Partial<RelayOptions>, "outbox" | "target"> = {},
) {
  return startOutboxRelay({
    outbox,
    target,
    serviceToken: async () => "t",
    logger: createLogger("relay-test", "silent"),
    ...options,
  });
}

describe("outbox relay", () => {
  it("two relays on one outbox deliver every event, in order, and none is applied twice", async () => {
    const outbox = source("relay_two_source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_two_target_${Date.now()}`);
    await enqueue(outbox, 30);
    const relays = [1, 2].map(() => testRelay(outbox, () => target.url, { pollMs: 20 }));
    try {
      await until(async () => (await outbox.events.countDocuments({})) === 0);
      const applied = await target.applied.find().sort({ order: 1 }).toArray();
      expect(applied.map((a) => a.n)).toEqual(Array.from({ length: 30 }, (_, n) => n));
      expect(new Set(applied.map((a) => a._id)).size).toBe(30);
      // Pending events travel in batches: one lane owner, one call for what was waiting.
      expect(target.deliveries()).toBeLessThan(30);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await target.close();
    }
  });

  it("retries with backoff while the consumer fails, reports the lag, and then delivers", async () => {
    const outbox = source("relay_retry_source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_retry_target_${Date.now()}`, { failFirst: 3 });
    await enqueue(outbox, 2);
    const relay = testRelay(outbox, () => target.url, {
      pollMs: 20,
      maxBackoffMs: 300,
    });
    try {
      await until(async () => (await relay.stats()).failedAttempts >= 1);
      const waiting = await relay.stats();
      expect(waiting.pending).toBeGreaterThan(0);
      expect(waiting.oldestPendingMs).toBeGreaterThan(0);
      await until(async () => (await relay.stats()).pending === 0);
      expect(await target.applied.countDocuments()).toBe(2);
      expect((await relay.stats()).failedAttempts).toBe(3);
    } finally {
      await relay.stop();
      await target.close();
    }
  });

  it("a destination that hangs does not hold back another destination's events", async () => {
    const outbox = source("relay_hang_source");
    await outbox.ensureIndexes();
    const healthy = await consumer(`relay_hang_target_${Date.now()}`);
    const held: import("node:http").ServerResponse[] = [];
    const hanging = createServer((_request, response) => void held.push(response));
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/events`;
    await enqueue(outbox, 3, ["stuck", "consumer"]);
    const relay = testRelay(
      outbox,
      (destination) => (destination === "stuck" ? hangingUrl : healthy.url),
      {
        pollMs: 20,
        // Far longer than the wait below: the healthy events must not queue behind it.
        deliveryTimeoutMs: 60_000,
      },
    );
    try {
      await until(async () => (await healthy.applied.countDocuments()) === 3, 10_000);
      expect(held).toHaveLength(1);
      expect(await outbox.events.countDocuments({ destination: "stuck" })).toBe(3);
    } finally {
      for (const response of held) response.writeHead(503).end();
      await relay.stop();
      hanging.closeAllConnections();
      hanging.close();
      await healthy.close();
    }
  });

  it("a request that waits for its effects hears when they arrived, and at once when the receiver is down", async () => {
    const outbox = source("relay_wait_source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_wait_target_${Date.now()}`);
    let url = "http://127.0.0.1:1/events";
    const relay = testRelay(outbox, () => url, {
      // Far longer than the test: only a commit can wake it.
      pollMs: 60_000,
      maxBackoffMs: 200,
    });
    try {
      // Receiver down: the answer comes without waiting out a long budget, naming the effect.
      const down = new EffectScope();
      await runTransaction(outbox.events.db, (session) =>
        addNumbered(outbox, session, 1, ["consumer"], down),
      );
      const pending = await settleEffects(down.deliveries, 60_000);
      expect(pending).toEqual([
        { eventId: expect.any(String), type: "Numbered", destination: "consumer" },
      ]);
      expect(await outbox.events.countDocuments({})).toBe(1);

      // Receiver back: the next commit's wait covers the earlier event too (order per destination).
      url = target.url;
      const up = new EffectScope();
      await runTransaction(outbox.events.db, (session) =>
        addNumbered(outbox, session, 2, ["consumer"], up),
      );
      expect(await settleEffects(up.deliveries, 60_000)).toEqual([]);
      const applied = await target.applied.find().sort({ order: 1 }).toArray();
      expect(applied.map((a) => a.n)).toEqual([1, 2]);
      expect(await outbox.events.countDocuments({})).toBe(0);
    } finally {
      await relay.stop();
      await target.close();
    }
  });

  it("a commit outside any request wakes the relay without waiting for its poll", async () => {
    const outbox = source("relay_wake_source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_wake_target_${Date.now()}`);
    const relay = testRelay(outbox, () => target.url, {
      pollMs: 60_000,
    });
    try {
      // Let the first (start-up) poll pass: from now on only a wake can deliver within the test.
      await until(async () => (await relay.stats()).pending === 0);
      await enqueue(outbox, 3);
      await until(async () => (await target.applied.countDocuments()) === 3, 5_000);
    } finally {
      await relay.stop();
      await target.close();
    }
  });

  it("a failed delivery is tried again when its backoff ends, not at the next poll", async () => {
    const outbox = source("relay_backoff_source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_backoff_target_${Date.now()}`, { failFirst: 1 });
    const relay = testRelay(outbox, () => target.url, {
      pollMs: 60_000,
      maxBackoffMs: 300,
    });
    try {
      await until(async () => (await relay.stats()).pending === 0);
      await enqueue(outbox, 2);
      await until(async () => (await target.applied.countDocuments()) === 2, 5_000);
      expect(target.deliveries()).toBeGreaterThanOrEqual(2);
      expect((await relay.stats()).failedAttempts).toBe(1);
    } finally {
      await relay.stop();
      await target.close();
    }
  });
});

describe("inbox", () => {
  it("a handler's failure fails the delivery (the event stays pending), and a later delivery applies it", async () => {
    const db = client().db(`inbox_dup_${Date.now()}`);
    const own = db.collection<{ _id: string; number: string }>("own");
    await own.createIndex({ number: 1 }, { unique: true });
    await own.insertOne({ _id: "existing", number: "42" });
    const inbox = new Inbox({
      Numbered: async (event) => {
        await own.updateOne({ _id: event.id }, { $set: { number: "42" } }, { upsert: true });
      },
    });
    const event = {
      id: "e-1",
      type: "Numbered",
      payload: {},
      actor: "t",
      channel: "COUNTER" as const,
      occurredAt: new Date().toISOString(),
      source: "source",
    };
    await expect(inbox.apply(event)).rejects.toMatchObject({ code: 11000 });
    await own.deleteOne({ _id: "existing" });
    expect(await inbox.apply(event)).toBe(true);
    // Handlers are idempotent: applying the event again leaves one record.
    expect(await inbox.apply(event)).toBe(true);
    expect(await own.countDocuments({ _id: "e-1" })).toBe(1);
  });
});
