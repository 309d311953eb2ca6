import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runTransaction } from "../mongo/transactions.js";
import {
  addNumbered,
  crashAt,
  onlyPasswords,
  pendingFor,
  relayHarness,
  sleep,
  testRelay,
  until,
  whileRelaying,
} from "../testing/relay-harness.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { EffectScope, settleEffects } from "./effects.js";
import { injectFault, InjectedCrash } from "./fault-points.js";
import { Inbox } from "./inbox.js";

const client = useTestMongo();
const { source, enqueue, consumer, carrierOf } = relayHarness(client);
const removeFaults: (() => void)[] = [];
afterEach(() => removeFaults.splice(0).forEach((remove) => remove()));

describe("outbox relay", () => {
  it("two relays on one outbox deliver every event, in order, and none is applied twice", async () => {
    const outbox = source("relay_two_source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_two_target_${Date.now()}`);
    await enqueue(outbox, 30);
    const relays = [1, 2].map(() =>
      testRelay(
        outbox,
        onlyPasswords(() => target.url),
        { pollMs: 20 },
      ),
    );
    try {
      await until(async () => (await pendingFor(outbox)) === 0);
      const applied = await target.applied.find().sort({ order: 1 }).toArray();
      expect(applied.map((a) => a.n)).toEqual(Array.from({ length: 30 }, (_, n) => n));
      expect(new Set(applied.map((a) => a.eventId)).size).toBe(30);
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
    await whileRelaying(
      outbox,
      target,
      { pollMs: 20, maxBackoffMs: 300, everyDestination: true },
      async (relay) => {
        await until(async () => (await relay.stats()).failedAttempts >= 1);
        const waiting = await relay.stats();
        expect(waiting.pending).toBeGreaterThan(0);
        expect(waiting.oldestPendingMs).toBeGreaterThan(0);
        await until(async () => (await relay.stats()).pending === 0);
        // Both receivers' events went to this one endpoint: two applications of each event.
        expect(await target.applied.countDocuments()).toBe(4);
        expect((await relay.stats()).failedAttempts).toBe(3);
      },
    );
  });

  it("a destination that hangs does not hold back another destination's events", async () => {
    const outbox = source("relay_hang_source");
    await outbox.ensureIndexes();
    const healthy = await consumer(`relay_hang_target_${Date.now()}`);
    const held: import("node:http").ServerResponse[] = [];
    const hanging = createServer((_request, response) => void held.push(response));
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/events`;
    await enqueue(outbox, 3);
    const relay = testRelay(
      outbox,
      (destination) => (destination === "cards" ? hangingUrl : healthy.url),
      {
        pollMs: 20,
        // Far longer than the wait below: the healthy events must not queue behind it.
        deliveryTimeoutMs: 60_000,
      },
    );
    try {
      await until(async () => (await healthy.applied.countDocuments()) === 3, 10_000);
      // The hanging receiver was asked too (on a loaded machine its request may land after the
      // healthy lane is done), and holds its one batch unanswered.
      await until(async () => held.length > 0, 10_000);
      expect(held).toHaveLength(1);
      expect(await outbox.events.countDocuments({ destination: "cards" })).toBe(3);
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
      await runTransaction(outbox.events.db, (session) => addNumbered(outbox, session, 1, down));
      const pending = await settleEffects(down.deliveries, 60_000);
      expect(pending).toEqual([
        { eventId: expect.any(String), type: "PersonRegistered", destination: "cards" },
        { eventId: expect.any(String), type: "PersonRegistered", destination: "passwords" },
      ]);
      expect(await outbox.events.countDocuments({})).toBe(2);

      // Receiver back: the next commit's wait covers the earlier event too (order per destination).
      url = target.url;
      const up = new EffectScope();
      await runTransaction(outbox.events.db, (session) => addNumbered(outbox, session, 2, up));
      expect(await settleEffects(up.deliveries, 60_000)).toEqual([]);
      // Each receiver's lane (both at this endpoint) delivered 1 before 2.
      const applied = await target.applied.find().sort({ order: 1 }).toArray();
      expect(applied.map((a) => a.n).sort()).toEqual([1, 1, 2, 2]);
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
    // One event before the relay starts: its delivery proves the start-up poll has run.
    await enqueue(outbox, 1);
    await whileRelaying(
      outbox,
      target,
      {
        // Never within the test: only a wake can deliver what commits from now on.
        pollMs: 2 ** 31 - 1,
        everyDestination: true,
      },
      async () => {
        await until(async () => (await target.applied.countDocuments()) === 2);
        await enqueue(outbox, 3, 1);
        await until(async () => (await target.applied.countDocuments()) === 8);
      },
    );
  });

  it("a failed delivery is tried again when its backoff ends, not at the next poll", async () => {
    const outbox = source("relay_backoff_source");
    await outbox.ensureIndexes();
    const target = await consumer(`relay_backoff_target_${Date.now()}`, { failFirst: 1 });
    await whileRelaying(
      outbox,
      target,
      { pollMs: 60_000, maxBackoffMs: 300, everyDestination: true },
      async (relay) => {
        await until(async () => (await relay.stats()).pending === 0);
        await enqueue(outbox, 2);
        await until(async () => (await target.applied.countDocuments()) === 4, 5_000);
        expect(target.deliveries()).toBeGreaterThanOrEqual(2);
        expect((await relay.stats()).failedAttempts).toBe(1);
      },
    );
  });
});

describe("the event backbone under faults", () => {
  it("a writer stopped between its write and its release: the next write of the document releases the stranded events with its own", async () => {
    const outbox = source("fault_carried");
    const { things, write } = await carrierOf(outbox);
    const remove = crashAt("after-carrying-write");
    await expect(write(1)).rejects.toThrow(InjectedCrash);
    remove();
    // Another replica changes the same document before the sweep would have released p1.
    await write(2);
    const stored = await outbox.events.find({ destination: "passwords" }).toArray();
    expect(stored.map((doc) => doc.payload["personId"]).sort()).toEqual(["p1", "p2"]);
    const carried = (await things.findOne({ _id: "t1" })) as unknown as { outgoing?: unknown[] };
    expect(carried.outgoing).toEqual([]);
  });

  it("a writer stopped for good: the relay's sweep releases and delivers what it left", async () => {
    const outbox = source("fault_stranded", { strandedAfterMs: 100 });
    const { write } = await carrierOf(outbox);
    const target = await consumer(`fault_stranded_target_${Date.now()}`);
    removeFaults.push(crashAt("after-carrying-write"));
    await expect(write(1)).rejects.toThrow(InjectedCrash);
    await whileRelaying(outbox, target, { pollMs: 20 }, async () => {
      await until(async () => (await target.applied.countDocuments()) === 1, 5_000);
      expect((await target.applied.findOne())?.n).toBe(1);
    });
  });

  it("a writer slower than the sweep does not insert again what the sweep delivered (each event applied once)", async () => {
    const outbox = source("fault_slow_writer", { strandedAfterMs: 200 });
    const { write } = await carrierOf(outbox);
    const target = await consumer(`fault_slow_target_${Date.now()}`);
    let paused = false;
    removeFaults.push(
      injectFault("after-carrying-write", async () => {
        paused = true;
        // Meanwhile the sweep releases the event and the relay delivers and deletes it.
        await until(async () => (await target.applied.countDocuments()) === 1, 5_000);
      }),
    );
    await whileRelaying(outbox, target, { pollMs: 20 }, async () => {
      await write(1);
      expect(paused).toBe(true);
      await until(async () => (await pendingFor(outbox)) === 0);
      await sleep(300);
      expect([...(await target.applications()).values()]).toEqual([1]);
    });
  });

  it("a lease held past its expiry: the paused owner finds the lane taken over and sends nothing more (no event applied twice)", async () => {
    const outbox = source("fault_lease");
    await outbox.ensureIndexes();
    const target = await consumer(`fault_lease_target_${Date.now()}`);
    await enqueue(outbox, 5);
    let paused = false;
    let resumed = false;
    removeFaults.push(
      injectFault("before-delivery", async ({ destination }) => {
        if (destination !== "passwords" || paused) return;
        paused = true;
        // A stop-the-world pause (GC, a frozen VM) far longer than the lease.
        await sleep(1_500);
        resumed = true;
      }),
    );
    const first = testRelay(
      outbox,
      onlyPasswords(() => target.url),
      { pollMs: 20, leaseMs: 400 },
    );
    await until(async () => paused);
    const second = testRelay(
      outbox,
      onlyPasswords(() => target.url),
      {
        pollMs: 20,
        leaseMs: 400,
      },
    );
    try {
      await until(async () => (await pendingFor(outbox)) === 0, 5_000);
      expect(resumed).toBe(false);
      await until(async () => resumed);
      await sleep(300);
      const applications = await target.applications();
      expect(applications.size).toBe(5);
      expect([...applications.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
      await target.close();
    }
  });

  it("an event its receiver cannot apply is dead-lettered after its attempts; the lane moves on, and an operator redelivers it", async () => {
    const outbox = source("fault_poison");
    await outbox.ensureIndexes();
    let broken = true;
    const target = await consumer(`fault_poison_target_${Date.now()}`, {
      poison: (personId) => broken && personId === "p1",
    });
    await enqueue(outbox, 3);
    await whileRelaying(
      outbox,
      target,
      {
        pollMs: 20,
        maxBackoffMs: 50,
        maxAttempts: 3,
      },
      async (relay) => {
        await until(async () => (await pendingFor(outbox)) === 0);
        const applied = await target.applied.find().sort({ order: 1 }).toArray();
        expect(applied.map((a) => a.n)).toEqual([0, 2]);
        const letters = await relay.deadLetters.list();
        expect(letters).toHaveLength(1);
        expect(letters[0]).toMatchObject({
          destination: "passwords",
          attempts: 3,
          lastError: "cannot apply this one",
          payload: { personId: "p1" },
        });
        expect((await relay.stats()).deadLetters).toBe(1);

        broken = false;
        expect(await relay.deadLetters.redeliver(letters[0]!._id)).toBe(1);
        await until(async () => (await target.applied.countDocuments()) === 3);
        expect((await relay.stats()).deadLetters).toBe(0);
      },
    );
  });
});

describe("inbox", () => {
  const noop = async () => undefined;
  const applied: string[] = [];
  const inbox = new Inbox("passwords", {
    CardIssued: noop,
    CardStatusChanged: noop,
    PersonRegistered: async (event) => {
      if (event.payload.personId === "bad") throw new Error("refused");
      applied.push(event.payload.personId);
    },
  });
  const event = (id: string, type: string, payload: Record<string, unknown>) => ({
    id,
    type,
    payload,
    actor: "t",
    channel: "COUNTER" as const,
    occurredAt: new Date().toISOString(),
    source: "persons",
  });

  it("a batch stops at the event that fails: those before it count as applied, none after it is tried", async () => {
    applied.length = 0;
    const result = await inbox.applyBatch([
      event("e1", "PersonRegistered", { personId: "a" }),
      event("e2", "PersonRegistered", { personId: "bad" }),
      event("e3", "PersonRegistered", { personId: "c" }),
    ]);
    expect(result.applied).toBe(1);
    expect(result.failed).toEqual({ eventId: "e2", error: "refused" });
    expect(applied).toEqual(["a"]);
  });

  it("an event the catalogue does not send here, or whose payload does not fit it, fails rather than vanishes", async () => {
    const unknown = await inbox.applyBatch([event("e4", "FinancialFunctionActivated", {})]);
    expect(unknown.failed?.error).toMatch(/does not handle FinancialFunctionActivated/);
    const misfit = await inbox.applyBatch([event("e5", "PersonRegistered", { personId: 7 })]);
    expect(misfit.failed?.error).toMatch(/does not fit the catalogue/);
  });

  it("a subgraph's handlers must be exactly the events the catalogue sends it", () => {
    expect(
      () =>
        new Inbox("passwords", {
          PersonRegistered: noop,
          CardIssued: noop,
        } as unknown as ConstructorParameters<typeof Inbox<"passwords">>[1]),
    ).toThrow(/catalogue sends it/);
  });
});
