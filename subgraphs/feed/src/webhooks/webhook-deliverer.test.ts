import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, HubError } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import type { CardEventType } from "../rules/card-event-types.js";
import { CardEventLog } from "../store/card-event-log.js";
import { cardEventSource } from "./card-event-source.js";
import type { ScheduleOptions } from "./delivery-schedule.js";
import { SecretCipher } from "./secrets.js";
import { TargetPolicy, type HostResolver } from "./target-policy.js";
import { startWebhookDeliverer, type WebhookDeliverer } from "./webhook-deliverer.js";
import { WebhookService } from "./webhook-service.js";
import { WebhookStore } from "./webhook-store.js";

const client = useTestMongo();
const cipher = new SecretCipher(randomBytes(32));
const logger = createLogger("webhook-deliverer-test", "silent");

/** One request as the receiver saw it. */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The receiver's monotonic clock when it arrived. */
  at: number;
  /** Which of the secrets the receiver knows verified it (standardwebhooks' Webhook.verify). */
  verifiedWith: string[];
}

/**
 * A real webhook receiver: an HTTP server on loopback that verifies every request's signature
 * with the standardwebhooks library, once per secret it is told about, and answers as scripted.
 */
class Receiver {
  readonly received: Received[] = [];
  /** Secrets to verify with, by label. */
  secrets: Record<string, string> = {};
  /** The status for a request (default 200); undefined leaves it unanswered. */
  answer: (
    body: { data: { eventId: string } },
    n: number,
  ) => number | undefined | Promise<number | undefined> = () => 200;
  inFlight = 0;
  maxInFlight = 0;
  private server!: Server;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        const headers = request.headers;
        const verifiedWith = Object.entries(this.secrets).flatMap(([label, secret]) => {
          try {
            new Webhook(secret).verify(body, {
              "webhook-id": String(headers["webhook-id"]),
              "webhook-timestamp": String(headers["webhook-timestamp"]),
              "webhook-signature": String(headers["webhook-signature"]),
            });
            return [label];
          } catch {
            return [];
          }
        });
        this.received.push({ headers, body, at: performance.now(), verifiedWith });
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        void Promise.resolve(this.answer(JSON.parse(body), this.received.length)).then((status) => {
          if (status === undefined) return;
          // A little latency, so that concurrent deliveries would overlap here.
          setTimeout(() => {
            this.inFlight -= 1;
            response.writeHead(status).end();
          }, 5);
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/card-events`;
    return this;
  }

  ids(): string[] {
    return this.received.map((r) => String(r.headers["webhook-id"]));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(): Promise<Receiver> {
  const r = await new Receiver().start();
  cleanups.push(() => r.stop());
  return r;
}

/** A feed database with its log, webhooks and the API service; deliverers started on demand. */
async function hub(
  options: {
    production?: boolean;
    resolve?: HostResolver;
    schedule?: Partial<ScheduleOptions>;
  } = {},
) {
  const db = client().db(`wh_deliver_${Math.random().toString(36).slice(2, 10)}`);
  const log = new CardEventLog(db);
  const store = new WebhookStore(db);
  await Promise.all([log.ensureIndexes(), store.ensureIndexes()]);
  const source = cardEventSource(log);
  const policy = new TargetPolicy({
    production: options.production ?? false,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const service = new WebhookService(store, cipher, policy, source);
  let appended = 0;
  const deliverers: WebhookDeliverer[] = [];
  return {
    log,
    store,
    service,
    deliverer(instance?: string): WebhookDeliverer {
      const deliverer = startWebhookDeliverer({
        store,
        source,
        cipher,
        policy,
        logger,
        pollMs: 50,
        schedule: { baseMs: 40, capMs: 400, random: () => 0.5, ...options.schedule },
        ...(instance ? { instance } : {}),
      });
      deliverers.push(deliverer);
      cleanups.push(() => deliverer.stop());
      return deliverer;
    },
    /** Appends an event as the feed's inbox does, and tells the deliverers. */
    async append(type: CardEventType = "LOSS_REPORTED", cardId = "c_1"): Promise<string> {
      appended += 1;
      const eventId = `ev_${appended}`;
      await log.append({
        _id: eventId,
        type,
        cardId,
        personId: "p_1",
        statusBefore: "NORMAL",
        statusAfter: "TEMPORARY_LOSS",
        occurredAt: new Date(),
        channel: "APP",
        source: "cards",
        sourceType: "CardStatusChanged",
        recordedAt: new Date(),
      });
      for (const deliverer of deliverers) deliverer.notify();
      return eventId;
    },
  };
}

/** Waits until `check` holds (polling), or fails naming what it waited for. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("webhook deliverer with a real receiver (webhooks/webhook-deliverer.ts)", () => {
  it("500 twice then 200: three attempts with the same webhook-id, every signature verified, growing delays", async () => {
    const h = await hub({ schedule: { baseMs: 200 } });
    const r = await receiver();
    r.answer = (_body, n) => (n <= 2 ? 500 : 200);
    const { webhook, secret } = await h.service.register(
      "APP",
      { url: r.url, types: null },
      new Date(),
    );
    r.secrets = { current: secret };
    const deliverer = h.deliverer();
    const eventId = await h.append();

    await until("the first failure", () => r.received.length >= 1);
    await until(
      "the pending delivery in stats",
      async () => (await deliverer.stats()).pending === 1,
    );
    await until("three attempts", () => r.received.length === 3);
    await until(
      "DELIVERED",
      async () => (await h.store.delivery(webhook._id, eventId))?.status === "DELIVERED",
    );

    expect(r.ids()).toEqual([eventId, eventId, eventId]);
    for (const request of r.received) expect(request.verifiedWith).toEqual(["current"]);
    const [a, b, c] = r.received.map((request) => request.at) as [number, number, number];
    expect(c - b).toBeGreaterThan(b - a);
    const stamps = r.received.map((request) => Number(request.headers["webhook-timestamp"]));
    expect([...stamps].sort((x, y) => x - y)).toEqual(stamps);
    const delivery = await h.store.delivery(webhook._id, eventId);
    expect(delivery).toMatchObject({
      status: "DELIVERED",
      attempts: 3,
      responseStatus: 200,
      nextAttemptAt: null,
    });
    expect(delivery!.lastAttemptAt.getTime()).toBeGreaterThan(delivery!.firstAttemptAt.getTime());
    expect((await h.service.deliveries("APP", webhook._id, null)).map((d) => d.eventId)).toEqual([
      eventId,
    ]);
    expect(await h.store.byId(webhook._id)).toMatchObject({ status: "ACTIVE", position: 1 });
    expect(await deliverer.stats()).toMatchObject({ webhooks: 1, pending: 0, oldestPendingMs: 0 });
    await pause(200);
    expect(r.received).toHaveLength(3);
  });

  it("410 Gone disables the webhook: nothing more is sent to it", async () => {
    const h = await hub();
    const r = await receiver();
    r.answer = () => 410;
    const { webhook } = await h.service.register("APP", { url: r.url, types: null }, new Date());
    h.deliverer();
    const eventId = await h.append();
    await until("DISABLED", async () => (await h.store.byId(webhook._id))?.status === "DISABLED");
    expect(await h.store.delivery(webhook._id, eventId)).toMatchObject({
      status: "FAILED",
      attempts: 1,
      responseStatus: 410,
    });
    await h.append();
    await pause(300);
    expect(r.ids()).toEqual([eventId]);
    expect((await h.service.list("APP"))[0]).toMatchObject({ status: "DISABLED" });
  });

  it("rotation: both signatures verify during the overlap, only the new one after it", async () => {
    const h = await hub();
    const r = await receiver();
    const first = await h.service.register("APP", { url: r.url, types: null }, new Date());
    const rotated = await h.service.rotate("APP", first.webhook._id, new Date());
    r.secrets = { old: first.secret, new: rotated.secret };
    h.deliverer();
    await h.append();
    await until("the first delivery", () => r.received.length === 1);
    expect(r.received[0]!.verifiedWith).toEqual(["old", "new"]);
    expect(String(r.received[0]!.headers["webhook-signature"]).split(" ")).toHaveLength(2);

    // The overlap ends (24 h later, as the stored expiry says).
    await h.store.webhooks.updateOne(
      { _id: first.webhook._id },
      { $set: { "secrets.previous.expiresAt": new Date(Date.now() - 1) } },
    );
    await h.append();
    await until("the second delivery", () => r.received.length === 2);
    expect(r.received[1]!.verifiedWith).toEqual(["new"]);
    expect(String(r.received[1]!.headers["webhook-signature"]).split(" ")).toHaveLength(1);
  });

  it("production refuses a private address at registration and at delivery (a name that resolves to 127.0.0.1)", async () => {
    let answer = "93.184.216.34";
    const h = await hub({
      production: true,
      resolve: async (host) =>
        host === "hooks.example.com"
          ? [{ address: answer, family: 4 }]
          : [{ address: "127.0.0.1", family: 4 }],
    });
    const refused = await h.service
      .register("APP", { url: "https://sneaky.example.com/hook", types: null }, new Date())
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HubError);
    expect(refused).toMatchObject({
      code: "BAD_USER_INPUT",
      message: expect.stringMatching(/127\.0\.0\.1, a loopback/),
    });

    const { webhook } = await h.service.register(
      "APP",
      { url: "https://hooks.example.com/hook", types: null },
      new Date(),
    );
    answer = "127.0.0.1"; // DNS now points the registered name at this machine
    h.deliverer();
    const eventId = await h.append();
    await until(
      "a refused attempt",
      async () => (await h.store.delivery(webhook._id, eventId)) !== null,
    );
    expect(await h.store.delivery(webhook._id, eventId)).toMatchObject({
      status: "RETRYING",
      responseStatus: null,
      lastError: expect.stringMatching(/127\.0\.0\.1, a loopback address/),
    });
    expect(await h.store.byId(webhook._id)).toMatchObject({ status: "ACTIVE", position: 0 });
  });

  it("the body carries the event only: no identity number, name or account number", async () => {
    const h = await hub();
    const r = await receiver();
    const { secret } = await h.service.register("APP", { url: r.url, types: null }, new Date());
    r.secrets = { current: secret };
    h.deliverer();
    const eventId = await h.append("CARD_CANCELLED", "c_9");
    await until("the delivery", () => r.received.length === 1);
    const raw = r.received[0]!.body;
    const body = JSON.parse(raw) as {
      type: string;
      timestamp: string;
      data: Record<string, unknown>;
    };
    expect(Object.keys(body).sort()).toEqual(["data", "timestamp", "type"]);
    expect(Object.keys(body.data).sort()).toEqual(
      [
        "cardId",
        "channel",
        "cursor",
        "eventId",
        "occurredAt",
        "personId",
        "statusAfter",
        "statusBefore",
        "type",
      ].sort(),
    );
    expect(body).toMatchObject({
      type: "CARD_CANCELLED",
      data: { eventId, cardId: "c_9", personId: "p_1" },
    });
    expect(raw).not.toMatch(/\d{17}[\dX]/); // an identity number
    expect(raw).not.toMatch(/name|idNumber|account|holder/i);
    expect(r.received[0]!.verifiedWith).toEqual(["current"]);
  });

  it("two deliverers on one database deliver each event once per webhook, in log order, one at a time", async () => {
    const h = await hub();
    const [r1, r2] = [await receiver(), await receiver()];
    const one = await h.service.register("APP", { url: r1.url, types: null }, new Date());
    const two = await h.service.register("WECHAT", { url: r2.url, types: null }, new Date());
    r1.secrets = { s: one.secret };
    r2.secrets = { s: two.secret };
    h.deliverer("replica-a");
    h.deliverer("replica-b");
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await h.append("LOSS_REPORTED", `c_${i % 3}`));
    await until(
      "every event at both receivers",
      () => r1.received.length >= 12 && r2.received.length >= 12,
    );
    await pause(300);
    expect(r1.ids()).toEqual(ids);
    expect(r2.ids()).toEqual(ids);
    expect(r1.maxInFlight).toBe(1);
    expect(r2.maxInFlight).toBe(1);
    for (const r of [r1, r2])
      for (const request of r.received) expect(request.verifiedWith).toEqual(["s"]);
    expect(await h.store.deliveries.countDocuments({ status: "DELIVERED" })).toBe(24);
  });

  it("only the webhook's types are delivered; the others move its position on", async () => {
    const h = await hub();
    const r = await receiver();
    const { webhook } = await h.service.register(
      "APP",
      { url: r.url, types: ["CARD_CANCELLED"] },
      new Date(),
    );
    h.deliverer();
    await h.append("LOSS_REPORTED");
    const cancelled = await h.append("CARD_CANCELLED");
    await h.append("LOSS_WITHDRAWN");
    await until(
      "the position at the log's head",
      async () => (await h.store.byId(webhook._id))?.position === 3,
    );
    expect(r.ids()).toEqual([cancelled]);
  });

  it("no 2xx for the horizon: the event is FAILED and skipped, the webhook FAILING until the next 2xx", async () => {
    const h = await hub({ schedule: { baseMs: 20, capMs: 80, horizonMs: 250 } });
    const r = await receiver();
    const { webhook } = await h.service.register("APP", { url: r.url, types: null }, new Date());
    const statusAtSecond: string[] = [];
    r.answer = async (body) => {
      if (body.data.eventId === "ev_1") return 500;
      statusAtSecond.push((await h.store.byId(webhook._id))!.status);
      return 200;
    };
    h.deliverer();
    await h.append();
    await h.append();
    await until(
      "the second event delivered",
      async () => (await h.store.delivery(webhook._id, "ev_2"))?.status === "DELIVERED",
    );
    expect(statusAtSecond[0]).toBe("FAILING");
    const failed = await h.store.delivery(webhook._id, "ev_1");
    expect(failed).toMatchObject({ status: "FAILED", responseStatus: 500, nextAttemptAt: null });
    expect(failed!.attempts).toBeGreaterThan(2);
    expect(await h.store.byId(webhook._id)).toMatchObject({ status: "ACTIVE", position: 2 });
    expect(r.ids().filter((id) => id === "ev_2")).toHaveLength(1);
  });

  it("no answer within the timeout is an attempt that failed", async () => {
    const h = await hub({ schedule: { timeoutMs: 150, baseMs: 5_000 } });
    const r = await receiver();
    r.answer = () => undefined;
    const { webhook } = await h.service.register("APP", { url: r.url, types: null }, new Date());
    h.deliverer();
    const eventId = await h.append();
    await until(
      "the timed-out attempt",
      async () => (await h.store.delivery(webhook._id, eventId)) !== null,
    );
    expect(await h.store.delivery(webhook._id, eventId)).toMatchObject({
      status: "RETRYING",
      attempts: 1,
      responseStatus: null,
      lastError: expect.stringMatching(/no answer within 150 ms/),
    });
  });
});
