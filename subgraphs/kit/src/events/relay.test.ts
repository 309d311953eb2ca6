import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { runTransaction } from "../mongo/transactions.js";
import type { HubEvent } from "./hub-event.js";
import { Inbox } from "./inbox.js";
import { Outbox } from "./outbox.js";
import { startOutboxRelay } from "./relay.js";

const client = useTestMongo();

/** A consumer subgraph stand-in: a real HTTP endpoint applying events through a real Inbox. */
async function consumer(dbName: string, options: { failFirst?: number } = {}) {
  const db = client().db(dbName);
  const applied = db.collection<{ _id: string; n: number; order: number }>("applied");
  let order = 0;
  let deliveries = 0;
  let failures = options.failFirst ?? 0;
  const inbox = new Inbox(db, {
    Numbered: async (event, session) => {
      await applied.insertOne(
        { _id: event.id, n: Number(event.payload["n"]), order: order++ },
        { session },
      );
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
      inbox.apply(JSON.parse(Buffer.concat(chunks).toString()) as HubEvent).then(
        (wasApplied) => response.writeHead(200).end(JSON.stringify({ applied: wasApplied })),
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

async function enqueue(
  outbox: Outbox,
  count: number,
  destinations: string[] = ["consumer"],
): Promise<void> {
  for (let n = 0; n < count; n++) {
    await runTransaction(outbox.events.db, (session) =>
      outbox.add(
        session,
        {
          type: "Numbered",
          payload: { n },
          actor: "t",
          channel: "COUNTER",
          occurredAt: new Date(),
        },
        destinations,
      ),
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

describe("outbox relay", () => {
  it("two relays on one outbox deliver every event, in order, and none is applied twice", async () => {
    const outbox = new Outbox(client().db(`relay_two_source_${Date.now()}`), "source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_two_target_${Date.now()}`);
    await enqueue(outbox, 30);
    const logger = createLogger("relay-test", "silent");
    const options = {
      outbox,
      target: () => target.url,
      serviceToken: async () => "t",
      logger,
      pollMs: 20,
    };
    const relays = [startOutboxRelay(options), startOutboxRelay(options)];
    try {
      await until(async () => (await outbox.events.countDocuments({ deliveredAt: null })) === 0);
      const applied = await target.applied.find().sort({ order: 1 }).toArray();
      expect(applied.map((a) => a.n)).toEqual(Array.from({ length: 30 }, (_, n) => n));
      expect(new Set(applied.map((a) => a._id)).size).toBe(30);
      expect(target.deliveries()).toBeGreaterThanOrEqual(30);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await target.close();
    }
  });

  it("retries with backoff while the consumer fails, reports the lag, and then delivers", async () => {
    const outbox = new Outbox(client().db(`relay_retry_source_${Date.now()}`), "source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_retry_target_${Date.now()}`, { failFirst: 3 });
    await enqueue(outbox, 2);
    const relay = startOutboxRelay({
      outbox,
      target: () => target.url,
      serviceToken: async () => "t",
      logger: createLogger("relay-test", "silent"),
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
    const outbox = new Outbox(client().db(`relay_hang_source_${Date.now()}`), "source");
    await outbox.ensureIndexes();
    const healthy = await consumer(`relay_hang_target_${Date.now()}`);
    const held: import("node:http").ServerResponse[] = [];
    const hanging = createServer((_request, response) => void held.push(response));
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/events`;
    await enqueue(outbox, 3, ["stuck", "consumer"]);
    const relay = startOutboxRelay({
      outbox,
      target: (destination) => (destination === "stuck" ? hangingUrl : healthy.url),
      serviceToken: async () => "t",
      logger: createLogger("relay-test", "silent"),
      pollMs: 20,
      // Far longer than the wait below: the healthy events must not queue behind it.
      deliveryTimeoutMs: 60_000,
    });
    try {
      await until(async () => (await healthy.applied.countDocuments()) === 3, 10_000);
      expect(held).toHaveLength(1);
      expect(await outbox.events.countDocuments({ destination: "stuck", deliveredAt: null })).toBe(
        3,
      );
    } finally {
      for (const response of held) response.writeHead(503).end();
      await relay.stop();
      hanging.closeAllConnections();
      hanging.close();
      await healthy.close();
    }
  });
});
