import { afterEach, describe, expect, it } from "vitest";
import { runTransaction } from "../mongo/transactions.js";
import {
  addNumbered,
  onlyPasswords,
  pendingFor,
  relayHarness,
  sleep,
  testRelay,
  until,
  whileRelaying,
} from "../testing/relay-harness.js";
import { useRecordedMongo } from "../testing/recorded-mongo.js";
import { HubError } from "../errors.js";
import { newEvent } from "../testing/events.js";
import { EffectScope, settleEffects } from "./effects.js";
import { Outbox } from "./outbox.js";
import { injectFault } from "./fault-points.js";

/**
 * Faults an independent read of the relay against MongoDB's semantics found, each made to happen:
 * a request's urgency against a failing event's backoff, a sweep that keeps failing, a stale lane
 * owner writing after its successor, a receiver's answer that does not cover the batch, a failed
 * delete, and a receiver answering before a majority holds what it saw.
 */
const { client, commands } = useRecordedMongo();
const { source, enqueue, consumer } = relayHarness(client);
const removeFaults: (() => void)[] = [];
afterEach(() => removeFaults.splice(0).forEach((remove) => remove()));

/** Quick retries: an event is dead-lettered at its second failed attempt. */
const retryTwice = { pollMs: 20, maxBackoffMs: 20, maxAttempts: 2 };

describe("the relay under faults", () => {
  it("requests waiting behind an event its receiver fails to apply do not cut its backoff short (no early dead letter)", async () => {
    const outbox = source("gap_urgent_backoff");
    await outbox.ensureIndexes();
    const target = await consumer(`gap_urgent_target_${Date.now()}`, {
      poison: (personId) => personId === "p0",
    });
    await enqueue(outbox, 1);
    // Three failed attempts already: the next failure backs off for 3.2 s (± a fifth).
    await outbox.events.updateMany({}, { $set: { attempts: 3 } });
    const head = () =>
      outbox.events.findOne({ "payload.personId": "p0", destination: "passwords" });
    await whileRelaying(
      outbox,
      target,
      { pollMs: 60_000, maxBackoffMs: 10_000, maxAttempts: 6 },
      async (relay) => {
        await until(async () => (await head())!.attempts === 4);
        // Twenty requests commit events for the same receiver and wait for them, at once.
        const waits = [];
        for (let n = 1; n <= 20; n++) {
          const scope = new EffectScope();
          await runTransaction(outbox.events.db, (session) =>
            addNumbered(outbox, session, n, scope),
          );
          waits.push(settleEffects(scope.deliveries, 60_000));
        }
        // Each hears at once that its effect is pending (the lane waits for the failed event).
        for (const pending of await Promise.all(waits)) expect(pending.length).toBeGreaterThan(0);
        expect((await head())!.attempts).toBe(4);
        expect(await relay.deadLetters.count()).toBe(0);
      },
    );
  });

  it("a sweep that keeps failing does not stop the poll from delivering what other replicas committed", async () => {
    const outbox = source("gap_failing_sweep");
    await outbox.ensureIndexes();
    outbox.onSweep("broken", async () => {
      throw new Error("this sweep always fails");
    });
    const target = await consumer(`gap_sweep_target_${Date.now()}`);
    await whileRelaying(outbox, target, { pollMs: 20 }, async () => {
      // Committed by another replica: no commit of this process wakes the relay, only its poll.
      await outbox.events.insertMany(outbox.prepare(addedElsewhere(7)));
      await until(async () => (await target.applied.countDocuments()) === 1, 5_000);
      expect((await target.applied.findOne())?.n).toBe(7);
    });
  });

  it("a lane owner paused after its receiver's failure neither counts the attempt nor buries an event its successor delivered", async () => {
    const outbox = source("gap_stale_bury");
    await outbox.ensureIndexes();
    let broken = true;
    const target = await consumer(`gap_stale_target_${Date.now()}`, {
      poison: (personId) => broken && personId === "p0",
    });
    await enqueue(outbox, 1);
    // One attempt left before it would be dead-lettered.
    await outbox.events.updateMany({}, { $set: { attempts: 1 } });
    let paused = false;
    let resume = () => undefined as void;
    removeFaults.push(
      injectFault("after-delivery", async ({ destination }) => {
        if (destination !== "passwords" || paused) return;
        paused = true;
        await new Promise<void>((resolve) => (resume = resolve));
      }),
    );
    const options = { pollMs: 20, leaseMs: 300, maxAttempts: 2 };
    const first = testRelay(
      outbox,
      onlyPasswords(() => target.url),
      options,
    );
    await until(async () => paused);
    // The receiver is fixed; a second replica takes the silent lane and delivers the event.
    broken = false;
    const second = testRelay(
      outbox,
      onlyPasswords(() => target.url),
      options,
    );
    try {
      await until(async () => (await pendingFor(outbox)) === 0, 5_000);
      resume();
      // Its stop waits for the lane it was serving: whatever it writes after the pause is written.
      await first.stop();
      expect(await target.applied.countDocuments()).toBe(1);
      expect(await first.deadLetters.count()).toBe(0);
    } finally {
      resume();
      await Promise.all([first.stop(), second.stop()]);
      await target.close();
    }
  });

  it("a receiver that answers for fewer events than it was sent, or answers nonsense, is sent the rest again", async () => {
    const outbox = source("gap_partial_answer");
    await outbox.ensureIndexes();
    let nonsense = 1;
    const target = await consumer(`gap_partial_target_${Date.now()}`, {
      // Applies only the first event of each batch and says so; the first answer is not one.
      answer: async (events, apply) => {
        if (nonsense-- > 0) return {};
        const { applied, failed } = await apply(events.slice(0, 1));
        return { applied, pending: {}, failed };
      },
    });
    await enqueue(outbox, 3);
    await whileRelaying(
      outbox,
      target,
      {
        pollMs: 20,
        maxBackoffMs: 50,
      },
      async () => {
        await until(async () => (await pendingFor(outbox)) === 0, 5_000);
        const applied = await target.applied.find().sort({ order: 1 }).toArray();
        expect(applied.map((a) => a.n)).toEqual([0, 1, 2]);
      },
    );
  });

  it("delivered events are deleted with retryable single-document deletes; a failure there is retried, not lost", async () => {
    const outbox = source("gap_delete");
    await outbox.ensureIndexes();
    const target = await consumer(`gap_delete_target_${Date.now()}`);
    let failed = 0;
    removeFaults.push(
      injectFault("after-delivery", ({ destination }) => {
        // The connection drops as the relay deletes what was delivered.
        if (destination === "passwords" && failed++ === 0) throw new Error("connection reset");
      }),
    );
    await enqueue(outbox, 2);
    commands.length = 0;
    await whileRelaying(
      outbox,
      target,
      {
        pollMs: 20,
        maxBackoffMs: 50,
      },
      async (relay) => {
        await until(async () => (await pendingFor(outbox)) === 0, 5_000);
        // The first delivery's deletes never ran: sent again, applied again (receivers absorb it).
        expect(await target.applied.countDocuments()).toBe(4);
        expect((await relay.stats()).failedAttempts).toBeGreaterThanOrEqual(1);
        const deletes = commands.filter(
          (c) => c.name === "delete" && c.command["delete"] === "outbox",
        );
        expect(deletes.length).toBeGreaterThan(0);
        for (const { command } of deletes) {
          const statements = command["deletes"] as { limit: number }[];
          expect(statements.every((statement) => statement.limit === 1)).toBe(true);
          // A retryable write: the driver names it with a transaction number to retry it once.
          expect(command["txnNumber"]).toBeDefined();
        }
      },
    );
  });

  it("a receiver answers only once a majority holds what its handlers saw: one majority write after the batch", async () => {
    const outbox = source("gap_majority");
    await outbox.ensureIndexes();
    const target = await consumer(`gap_majority_target_${Date.now()}`, {
      withDb: "three-members",
    });
    await enqueue(outbox, 3);
    commands.length = 0;
    await whileRelaying(outbox, target, { pollMs: 20 }, async (relay) => {
      await until(async () => (await pendingFor(outbox)) === 0, 5_000);
      const marks = commands.filter(
        (c) => c.name === "update" && c.command["update"] === "inbox_marks",
      );
      expect(marks.length).toBeGreaterThan(0);
      for (const { command } of marks)
        expect(command["writeConcern"]).toMatchObject({ w: "majority" });
      // After the batch's own writes, before the relay deleted it.
      const lastApply = commands.findLastIndex(
        (c) => c.name === "insert" && c.command["insert"] === "applied",
      );
      const firstDelete = commands.findIndex(
        (c) => c.name === "delete" && c.command["delete"] === "outbox",
      );
      const mark = commands.findIndex((c) => c.command["update"] === "inbox_marks");
      expect(mark).toBeGreaterThan(lastApply);
      expect(mark).toBeLessThan(firstDelete);
      expect(
        await target.db.collection<{ _id: string; applied: number }>("inbox_marks").findOne({
          _id: "passwords",
        }),
      ).toEqual({ _id: "passwords", applied: 3 });
    });
  });

  it("a sweep that hangs does not stop the poll: what other replicas commit later is still delivered", async () => {
    const outbox = source("gap_hanging_sweep");
    await outbox.ensureIndexes();
    outbox.onSweep("hanging", () => new Promise<number>(() => undefined));
    const target = await consumer(`gap_hang_target_${Date.now()}`);
    await whileRelaying(outbox, target, { pollMs: 20 }, async (relay) => {
      await until(async () => (await relay.stats()).pending >= 0);
      await sleep(100);
      await outbox.events.insertMany(outbox.prepare(addedElsewhere(8)));
      await until(async () => (await target.applied.countDocuments()) === 1, 10_000);
    });
  });

  it("a batch its receiver refuses as a whole (413) is sent one event at a time; an event refused alone is that event's failure", async () => {
    const outbox = source("gap_refused");
    await outbox.ensureIndexes();
    const sizes: number[] = [];
    const target = await consumer(`gap_refused_target_${Date.now()}`, {
      answer: async (events, apply) => {
        sizes.push(events.length);
        if (events.length > 2) return { status: 413 };
        if (events.some((event) => event.payload["personId"] === "p3"))
          return { status: 400, body: INBOX_REFUSAL };
        const { applied, failed } = await apply(events);
        return { applied, pending: {}, failed };
      },
    });
    await enqueue(outbox, 6);
    await whileRelaying(outbox, target, retryTwice, async (relay) => {
      await until(async () => (await pendingFor(outbox)) === 0, 10_000);
      const applied = await target.applied.find().sort({ order: 1 }).toArray();
      expect(applied.map((a) => a.n)).toEqual([0, 1, 2, 4, 5]);
      const letters = await relay.deadLetters.list();
      expect(letters.map((letter) => letter.payload["personId"])).toEqual(["p3"]);
      expect(letters[0]?.lastError).toBe("refused by passwords: HTTP 400");
      expect(sizes[0]).toBe(6);
      expect(sizes).toContain(1);
    });
  });

  it("a receiver whose own database fails answers an error, and the event keeps its attempts (no dead letter)", async () => {
    const outbox = source("gap_receiver_db");
    await outbox.ensureIndexes();
    let outages = 3;
    const target = await consumer(`gap_receiver_db_target_${Date.now()}`, {
      poison: () => {
        if (outages-- > 0) throw new HubError("SERVICE_UNAVAILABLE", "database unavailable");
        return false;
      },
    });
    await enqueue(outbox, 1);
    await whileRelaying(outbox, target, retryTwice, async (relay) => {
      await until(async () => (await target.applied.countDocuments()) === 1, 10_000);
      expect(await relay.deadLetters.count()).toBe(0);
      expect(target.deliveries()).toBe(4);
    });
  });

  it("a 400 that is not the receiving inbox's own (a proxy's) is the lane's failure: the event is not charged", async () => {
    const outbox = source("gap_proxy_400");
    await outbox.ensureIndexes();
    const target = await consumer(`gap_proxy_target_${Date.now()}`, {
      answer: async () => ({ status: 400 }),
    });
    await enqueue(outbox, 1);
    await whileRelaying(outbox, target, retryTwice, async (relay) => {
      await until(async () => target.deliveries() >= 4, 10_000);
      expect(await relay.deadLetters.count()).toBe(0);
      const head = await outbox.events.findOne({ destination: "passwords" });
      expect(head?.attempts).toBe(0);
    });
  });

  it("a request waits for the receivers whose state its answer shows, never for an observer (the feed)", async () => {
    const outbox = new Outbox(client().db(`gap_observer_${Date.now()}`), "cards");
    await outbox.ensureIndexes();
    const relay = testRelay(outbox, () => "http://127.0.0.1:1/events", { pollMs: 60_000 });
    try {
      const scope = new EffectScope();
      await runTransaction(outbox.events.db, (session) =>
        outbox.add(
          session,
          newEvent("CardIssued", {
            cardId: "c1",
            personId: "p1",
            province: "44",
            issuingBank: "ICBC",
            status: "ARCHIVED",
            expiresAt: new Date("2036-01-01T00:00:00Z").toISOString(),
            cardVersion: 1,
            replacesId: null,
          }),
          scope,
        ),
      );
      // Stored for every receiver, the feed included; waited for by the others only.
      expect((await outbox.events.find().toArray()).map((d) => d.destination).sort()).toEqual([
        "bank-accounts",
        "feed",
        "passwords",
      ]);
      expect(scope.deliveries.map((d) => d.effect.destination).sort()).toEqual([
        "bank-accounts",
        "passwords",
      ]);
    } finally {
      await relay.stop();
    }
  });
});

/** What a receiving inbox answers for a body it cannot read as a batch of events. */
const INBOX_REFUSAL = {
  errors: [
    { message: "The body is not a batch of events.", extensions: { code: "BAD_USER_INPUT" } },
  ],
};

/** An event committed by another replica of the sender (outside this process). */
const addedElsewhere = (n: number) => ({
  type: "PersonRegistered" as const,
  payload: { personId: `p${n}` },
  actor: "t",
  channel: "COUNTER" as const,
  occurredAt: new Date(),
});
