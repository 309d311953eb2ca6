import type { Collection, Db, Document } from "mongodb";
import { describe, expect, it } from "vitest";
import { runTransaction } from "../mongo/transactions.js";
import { newEvent, outboxDocument, receivedEvent } from "../testing/events.js";
import { freshDatabases } from "../testing/recorded-mongo.js";
import { useTestMongo } from "../testing/test-mongo.js";
import {
  EVENT_CATALOGUE,
  isEventType,
  parsePayload,
  receiversOf,
  typesReceivedBy,
  type EventType,
} from "./catalogue.js";
import { DeadLetters } from "./dead-letters.js";
import { EffectScope, type TrackedDelivery } from "./effects.js";
import { injectFault } from "./fault-points.js";
import type { HubEvent } from "./hub-event.js";
import { Inbox } from "./inbox.js";
import { EPOCH, LaneLeases, type LaneDocument, type Lease } from "./lane-lease.js";
import { byId, type OutboxDocument } from "./outbox-document.js";
import { Outbox } from "./outbox.js";
import { isRelayCommand, withRelay } from "./relay.js";

/**
 * The event modules' decisions one at a time (mutation testing, docs/mutation-testing.md): the
 * catalogue's payload checks, the inbox's batch rules, the lane lease's claims on a clock the test
 * moves, dead letters, and the outbox's bookkeeping, each against the real (embedded) database.
 * relay.test.ts runs them together under faults.
 */
const client = useTestMongo();
const freshDb = freshDatabases(client);

const cardState = {
  cardId: "c1",
  personId: "p1",
  province: "44",
  issuingBank: "Bank",
  status: "NORMAL",
  expiresAt: "2036-01-01T00:00:00.000Z",
  cardVersion: 1,
};

describe("the catalogue's payload checks", () => {
  const reasonFor = (type: EventType, payload: unknown) => {
    const parsed = parsePayload(type, payload);
    return parsed.ok ? null : parsed.reason;
  };

  it("knows its own event types and nothing else", () => {
    for (const type of Object.keys(EVENT_CATALOGUE)) expect(isEventType(type)).toBe(true);
    for (const type of ["", "toString", "constructor", "personregistered", "CardLost"])
      expect(isEventType(type), type).toBe(false);
    expect(receiversOf("PersonRegistered")).toEqual(["cards", "passwords"]);
    expect(receiversOf("InitialPasswordChanged")).toEqual(["cards"]);
    expect(typesReceivedBy("cards").sort()).toEqual([
      "BankAccountStatusChanged",
      "CardPasswordStateChanged",
      "ElectronicPasswordLocked",
      "FinancialFunctionActivated",
      "InitialPasswordChanged",
      "PersonRegistered",
    ]);
  });

  it("accepts a payload that fits and hands it back as parsed", () => {
    const payload = { ...cardState, replacesId: null };
    expect(parsePayload("CardIssued", payload)).toEqual({ ok: true, payload });
    expect(
      parsePayload("CardStatusChanged", { ...cardState, change: "LOST", fromStatus: null }).ok,
    ).toBe(true);
    expect(
      parsePayload("CardIssued", { ...payload, expiresAt: "2036-01-01T08:00:00+08:00" }).ok,
    ).toBe(true);
    expect(
      parsePayload("FinancialFunctionActivated", { cardId: "c1", agent: null, accountVersion: 2 })
        .ok,
    ).toBe(true);
    const agent = { idNumber: "11010519491231002X", name: "王芳", powerOfAttorneyRef: "A-1" };
    expect(
      parsePayload("FinancialFunctionActivated", { cardId: "c1", agent, accountVersion: 2 }),
    ).toEqual({ ok: true, payload: { cardId: "c1", agent, accountVersion: 2 } });
    expect(
      parsePayload("ElectronicPasswordLocked", {
        personId: "p1",
        lockedUntil: "2026-11-26T08:00:00.000Z",
      }).ok,
    ).toBe(true);
  });

  it("refuses an empty id, a version that is not a positive whole number, and a date without its time", () => {
    expect(reasonFor("PersonRegistered", { personId: "" })).toMatch(/personId/);
    expect(reasonFor("PersonRegistered", {})).toMatch(/personId/);
    for (const key of ["cardId", "personId"] as const)
      expect(reasonFor("CardIssued", { ...cardState, replacesId: null, [key]: "" })).toMatch(key);
    for (const cardVersion of [0, -1, 1.5])
      expect(reasonFor("CardIssued", { ...cardState, replacesId: null, cardVersion })).toMatch(
        /cardVersion/,
      );
    expect(
      reasonFor("CardIssued", { ...cardState, replacesId: null, expiresAt: "2036-01-01" }),
    ).toMatch(/expiresAt/);
    expect(reasonFor("CardIssued", { ...cardState })).toMatch(/replacesId/);
    expect(reasonFor("CardStatusChanged", { ...cardState, change: "LOST", fromStatus: 3 })).toMatch(
      /fromStatus/,
    );
    expect(reasonFor("CardStatusChanged", { ...cardState, fromStatus: null })).toMatch(/change/);
    expect(
      reasonFor("BankAccountStatusChanged", { cardId: "", status: "ACTIVE", accountVersion: 1 }),
    ).toMatch(/cardId/);
    expect(
      reasonFor("BankAccountStatusChanged", { cardId: "c1", status: "ACTIVE", accountVersion: 0 }),
    ).toMatch(/accountVersion/);
    expect(
      reasonFor("FinancialFunctionActivated", {
        cardId: "c1",
        agent: { idNumber: "x", name: "y" },
        accountVersion: 1,
      }),
    ).toMatch(/powerOfAttorneyRef/);
    expect(reasonFor("InitialPasswordChanged", { cardId: "" })).toMatch(/cardId/);
    expect(
      reasonFor("ElectronicPasswordLocked", { personId: "p1", lockedUntil: "tomorrow" }),
    ).toMatch(/lockedUntil/);
    expect(
      reasonFor("ElectronicPasswordLocked", { personId: "", lockedUntil: "2026-11-26T08:00:00Z" }),
    ).toMatch(/personId/);
  });
});

describe("the inbox's batches", () => {
  const seen: { id: string; type: string; payload: unknown; wrote: boolean }[] = [];
  const record = async (
    event: { id: string; type: string; payload: unknown },
    effects: EffectScope,
  ) => {
    seen.push({ id: event.id, type: event.type, payload: event.payload, wrote: effects.wrote });
  };
  const inbox = new Inbox("passwords", {
    PersonRegistered: async (event, effects) => {
      if (event.payload.personId === "text") throw "not an Error";
      if (event.payload.personId === "bad") throw new Error("refused");
      await record(event, effects);
    },
    CardIssued: record,
    CardStatusChanged: record,
  });
  const registered = (id: string, personId: string): HubEvent =>
    receivedEvent(id, "PersonRegistered", { personId });

  it("names what a subgraph handles and what the catalogue sends it when they differ", () => {
    const handlers = {
      PersonRegistered: record,
      CardIssued: record,
    } as unknown as ConstructorParameters<typeof Inbox<"passwords">>[1];
    expect(() => new Inbox("passwords", handlers)).toThrow(
      new Error(
        "passwords handles CardIssued, PersonRegistered but the catalogue sends it CardIssued, CardStatusChanged, PersonRegistered",
      ),
    );
  });

  it("handles exactly the catalogue's events for its subgraph", () => {
    expect(inbox.handles("PersonRegistered")).toBe(true);
    expect(inbox.handles("CardStatusChanged")).toBe(true);
    expect(inbox.handles("FinancialFunctionActivated")).toBe(false);
    expect(inbox.handles("toString")).toBe(false);
    expect(inbox.handles("Unknown")).toBe(false);
  });

  it("applies a whole batch in order, each event with the payload as parsed and its own writing scope", async () => {
    seen.length = 0;
    const between: unknown[] = [];
    const remove = injectFault("between-received-events", (detail) => {
      between.push(detail);
    });
    try {
      const result = await inbox.applyBatch([
        receivedEvent("e1", "PersonRegistered", { personId: "a", extra: 1 } as never),
        receivedEvent("e2", "CardIssued", { ...cardState, replacesId: null }),
        registered("e3", "c"),
      ]);
      expect(result.applied).toBe(3);
      expect(result.failed).toBeNull();
      expect([...result.effects.keys()]).toEqual(["e1", "e2", "e3"]);
      for (const scope of result.effects.values()) expect(scope.wrote).toBe(true);
      expect(seen).toEqual([
        { id: "e1", type: "PersonRegistered", payload: { personId: "a" }, wrote: true },
        {
          id: "e2",
          type: "CardIssued",
          payload: { ...cardState, replacesId: null },
          wrote: true,
        },
        { id: "e3", type: "PersonRegistered", payload: { personId: "c" }, wrote: true },
      ]);
      // Between two events, never before the first.
      expect(between).toEqual([{ eventId: "e2" }, { eventId: "e3" }]);
    } finally {
      remove();
    }
  });

  it("stops at a failing event with its message, whatever was thrown, and keeps the effects of those before it", async () => {
    seen.length = 0;
    const failed = await inbox.applyBatch([registered("e1", "a"), registered("e2", "text")]);
    expect(failed.applied).toBe(1);
    expect([...failed.effects.keys()]).toEqual(["e1"]);
    expect(failed.failed).toEqual({ eventId: "e2", error: "not an Error" });
    const first = await inbox.applyBatch([registered("e3", "bad"), registered("e4", "d")]);
    expect(first).toMatchObject({ applied: 0, failed: { eventId: "e3", error: "refused" } });
    expect(first.effects.size).toBe(0);
    expect(seen.map((s) => s.id)).toEqual(["e1"]);
  });

  it("says which event it does not handle, and why a payload does not fit", async () => {
    const unknown = await inbox.applyBatch([
      receivedEvent("e5", "FinancialFunctionActivated", {
        cardId: "c1",
        agent: null,
        accountVersion: 1,
      }),
    ]);
    expect(unknown.failed?.error).toBe(
      "passwords does not handle FinancialFunctionActivated events",
    );
    const made = await inbox.applyBatch([{ ...registered("e6", "x"), type: "CardDestroyed" }]);
    expect(made.failed?.error).toBe("passwords does not handle CardDestroyed events");
    const misfit = await inbox.applyBatch([registered("e7", "")]);
    expect(misfit.failed?.error).toMatch(
      /^PersonRegistered payload does not fit the catalogue: .*personId/s,
    );
  });
});

describe("lane leases, on a clock the test moves", () => {
  const LEASE = 1_000;
  async function lanes(name: string) {
    const collection = freshDb(name).collection<LaneDocument>("outbox_lanes");
    const clocks = { a: 0, b: 0 };
    const a = new LaneLeases(collection, "A", LEASE, () => clocks.a);
    const b = new LaneLeases(collection, "B", LEASE, () => clocks.b);
    const lane = async () => (await collection.findOne({ _id: "cards" }))!;
    return { collection, clocks, a, b, lane };
  }
  const isLease = (value: Lease | string): Lease => {
    if (typeof value === "string") throw new Error(`not a lease: ${value}`);
    return value;
  };

  it("a free lane is taken at once: the new owner's epoch, a fresh beat, confirmed now", async () => {
    const { a, clocks, lane } = await lanes("lease_free");
    clocks.a = 42;
    const lease = isLease(await a.claim("cards", false));
    expect(lease).toEqual({ destination: "cards", epoch: 1, attempts: 0, confirmedAt: 42 });
    expect(await lane()).toEqual({
      _id: "cards",
      owner: "A",
      epoch: 1,
      beat: 0,
      attempts: 0,
      nextAttemptAt: EPOCH,
      lastError: null,
      eventFailed: false,
    });
  });

  it("a held lane is taken only after its beat stood still for a whole lease on the contender's clock", async () => {
    const { a, b, clocks, lane } = await lanes("lease_takeover");
    const held = isLease(await a.claim("cards", false));
    expect(await b.claim("cards", false)).toBe("busy");
    clocks.b = LEASE - 1;
    expect(await b.claim("cards", true)).toBe("busy");
    // The owner renews (a quarter lease has passed on its clock): the contender starts again.
    clocks.a = LEASE / 4;
    expect(await a.confirm(held)).toBe(true);
    expect((await lane()).beat).toBe(1);
    expect(held.confirmedAt).toBe(LEASE / 4);
    clocks.b = LEASE;
    expect(await b.claim("cards", false)).toBe("busy");
    clocks.b = 2 * LEASE - 1;
    expect(await b.claim("cards", false)).toBe("busy");
    clocks.b = 2 * LEASE;
    const taken = isLease(await b.claim("cards", false));
    expect(taken).toMatchObject({ destination: "cards", epoch: 2, confirmedAt: 2 * LEASE });
    expect(await lane()).toMatchObject({ owner: "B", epoch: 2, beat: 0 });
    // The old owner finds out at its next confirmation and sends nothing more.
    clocks.a = LEASE / 2;
    expect(await a.confirm(held)).toBe(false);
    expect(held.confirmedAt).toBe(LEASE / 4);
    // Its release does not free the lane it lost.
    await a.release(held);
    expect((await lane()).owner).toBe("B");
  });

  it("confirms without a write within a quarter lease, and with one from then on", async () => {
    const { a, clocks, lane } = await lanes("lease_confirm");
    const lease = isLease(await a.claim("cards", false));
    clocks.a = LEASE / 4 - 1;
    expect(await a.confirm(lease)).toBe(true);
    expect((await lane()).beat).toBe(0);
    expect(lease.confirmedAt).toBe(0);
    clocks.a = LEASE / 4;
    expect(await a.confirm(lease)).toBe(true);
    expect((await lane()).beat).toBe(1);
    expect(lease.confirmedAt).toBe(LEASE / 4);
  });

  it("a claim and a confirmation count the lease from before their write, not from its slow acknowledgement", async () => {
    const { collection, clocks } = await lanes("lease_slow_ack");
    // Once on, every write to the lane is acknowledged 300 ms (of A's clock) after it was applied.
    let slowAcks = false;
    const slow = new Proxy(collection, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== "findOneAndUpdate" && property !== "updateOne") return value;
        return async (...args: unknown[]) => {
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(
            target,
            args,
          );
          if (slowAcks) clocks.a += 300;
          return result;
        };
      },
    });
    const a = new LaneLeases(slow, "A", LEASE, () => clocks.a);
    await a.release(isLease(await a.claim("cards", false)));
    slowAcks = true;
    clocks.a = 1_000;
    const lease = isLease(await a.claim("cards", false));
    expect(lease.confirmedAt).toBe(1_000);
    expect(await a.confirm(lease, true)).toBe(true);
    expect(lease.confirmedAt).toBe(clocks.a - 300);
    // What a delivery may still take is counted from there too.
    expect(a.remainingMs(lease)).toBe(lease.confirmedAt + (LEASE * 9) / 10 - clocks.a);
  });

  it("a released lane is free at once, for another epoch", async () => {
    const { a, b, lane } = await lanes("lease_release");
    await a.release(isLease(await a.claim("cards", false)));
    expect((await lane()).owner).toBeNull();
    expect(isLease(await b.claim("cards", false)).epoch).toBe(2);
  });

  it("a backoff holds the lane for everyone but an urgent claim, until it is cleared", async () => {
    const { a, b, lane } = await lanes("lease_backoff");
    const lease = isLease(await a.claim("cards", false));
    const before = Date.now();
    await a.backOff(lease, {
      attempts: 3,
      backoffMs: 60_000,
      error: "HTTP 503",
      eventFailed: false,
    });
    const backedOff = await lane();
    expect(backedOff).toMatchObject({ attempts: 3, lastError: "HTTP 503", owner: "A" });
    expect(backedOff.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(backedOff.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    await a.release(lease);
    expect(await b.claim("cards", false)).toBe("backing-off");
    const urgent = isLease(await b.claim("cards", true));
    expect(urgent).toMatchObject({ epoch: 2, attempts: 3 });
    await b.clearBackoff(urgent);
    expect(await lane()).toMatchObject({
      attempts: 0,
      nextAttemptAt: EPOCH,
      lastError: null,
      owner: "B",
    });
    // A lease that is no longer held changes nothing.
    await a.backOff(lease, { attempts: 9, backoffMs: 1, error: "late", eventFailed: false });
    expect((await lane()).attempts).toBe(0);
  });

  it("a lane whose backoff has ended is claimed as a free one", async () => {
    const { a, b } = await lanes("lease_backoff_over");
    const lease = isLease(await a.claim("cards", false));
    await a.backOff(lease, { attempts: 1, backoffMs: -1, error: "HTTP 503", eventFailed: false });
    await a.release(lease);
    expect(isLease(await b.claim("cards", false)).attempts).toBe(1);
  });

  it("a lane stored without epochs (an older version's) gets them, free", async () => {
    const { collection, a, lane } = await lanes("lease_legacy");
    await collection.insertOne({
      _id: "cards",
      owner: "old",
      attempts: 0,
      nextAttemptAt: EPOCH,
      lastError: null,
      leaseUntil: new Date(),
    } as unknown as LaneDocument);
    expect(isLease(await a.claim("cards", false)).epoch).toBe(1);
    expect(await lane()).toMatchObject({ owner: "A", epoch: 1, beat: 0 });
  });
});

describe("dead letters", () => {
  it("bury moves an event out of the outbox with its last error; redeliver puts it back at the end of its lane with its attempts reset", async () => {
    const db = freshDb("dead");
    const outbox = db.collection<OutboxDocument>("outbox");
    const dead = new DeadLetters(db, outbox);
    await dead.ensureIndexes();
    expect((await dead.collection.indexes()).map((i) => i.name)).toContain("dead_at");
    const first = outboxDocument("e1", "cards");
    const second = outboxDocument("e1", "passwords");
    const third = outboxDocument("e2", "cards");
    await outbox.insertMany([first, second, third]);
    await dead.bury(first, "cannot apply");
    await dead.bury(second, "cannot apply either");
    await dead.bury(third, "no");
    expect(await outbox.countDocuments()).toBe(0);
    expect(await dead.count()).toBe(3);
    const letters = await dead.list();
    expect(letters.map((l) => [l._id, l.lastError])).toEqual([
      ["e1:cards", "cannot apply"],
      ["e1:passwords", "cannot apply either"],
      ["e2:cards", "no"],
    ]);
    expect(letters[0]).toMatchObject({ ...first, lastError: "cannot apply" });
    expect(letters[0]!.deadAt).toBeInstanceOf(Date);
    expect((await dead.list(2)).map((l) => l._id)).toEqual(["e1:cards", "e1:passwords"]);

    const before = Date.now();
    expect(await dead.redeliver("e2:cards")).toBe(1);
    const back = await outbox.findOne({ _id: "e2:cards" });
    expect(back).toEqual({
      ...third,
      attempts: 0,
      lastError: null,
      enqueuedAt: expect.any(Date),
    });
    expect(back!.enqueuedAt.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(await dead.count()).toBe(2);
    // By event id: every destination's.
    expect(await dead.redeliver("e1")).toBe(2);
    expect(await dead.count()).toBe(0);
    expect((await outbox.find().toArray()).map((d) => d._id).sort()).toEqual([
      "e1:cards",
      "e1:passwords",
      "e2:cards",
    ]);
    expect(await dead.redeliver("nothing")).toBe(0);
  });

  it("a bury interrupted after storing the letter is completed by burying again", async () => {
    const db = freshDb("dead_twice");
    const outbox = db.collection<OutboxDocument>("outbox");
    const dead = new DeadLetters(db, outbox);
    const doc = outboxDocument("e1", "cards");
    await outbox.insertOne(doc);
    await dead.collection.insertOne({ ...doc, deadAt: new Date() });
    await dead.bury(doc, "again");
    expect(await outbox.countDocuments()).toBe(0);
    expect(await dead.count()).toBe(1);
  });
});

/** A collection whose documents carry events, typed for the test and as the outbox takes it. */
interface Carrying {
  _id: string;
  version: number;
  outgoing?: OutboxDocument[];
  outgoingSince?: Date | null;
}
function carriers(db: Db) {
  const persons = db.collection<Carrying>("persons");
  return { persons, carrier: persons as unknown as Collection<Document> };
}

describe("the outbox's bookkeeping", () => {
  function listening(outbox: Outbox) {
    const calls: { ids: string[]; track: boolean }[] = [];
    const tracked: TrackedDelivery = {
      effect: { eventId: "x", type: "PersonRegistered", destination: "cards" },
      delivered: Promise.resolve([]),
    };
    outbox.onCommitted((docs, track) => {
      calls.push({ ids: docs.map((d) => d._id).sort(), track });
      return [tracked];
    });
    return { calls, tracked };
  }

  it("prepares one document per receiver, and only for events its subgraph produces", () => {
    const outbox = new Outbox(freshDb("prepare"), "persons");
    expect(outbox.destinations).toEqual(["cards", "passwords"]);
    expect(outbox.strandedAfterMs).toBe(5_000);
    expect(new Outbox(freshDb("prepare2"), "cards", { strandedAfterMs: 7 }).strandedAfterMs).toBe(
      7,
    );
    const event = newEvent("PersonRegistered", { personId: "p1" });
    const before = Date.now();
    const docs = outbox.prepare(event);
    expect(docs).toHaveLength(2);
    const [cards, passwords] = docs as [OutboxDocument, OutboxDocument];
    expect(cards).toEqual({
      _id: `${cards.eventId}:cards`,
      eventId: cards.eventId,
      destination: "cards",
      ...event,
      source: "persons",
      enqueuedAt: expect.any(Date),
      attempts: 0,
      lastError: null,
    });
    expect(passwords).toEqual({
      ...cards,
      _id: `${cards.eventId}:passwords`,
      destination: "passwords",
    });
    expect(cards.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(cards.enqueuedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(outbox.prepare(event)[0]!.eventId).not.toBe(cards.eventId);
    expect(() => outbox.prepare(newEvent("InitialPasswordChanged", { cardId: "c1" }))).toThrow(
      new Error("InitialPasswordChanged is not produced by persons (events/catalogue.ts)"),
    );
  });

  it("carries events in a document, keeping the time the oldest was written", () => {
    const outbox = new Outbox(freshDb("carry"), "persons");
    const [a, b] = outbox.prepare(newEvent("PersonRegistered", { personId: "p1" })) as [
      OutboxDocument,
      OutboxDocument,
    ];
    const before = Date.now();
    const first = outbox.carry({}, [a]);
    expect(first.outgoing).toEqual([a]);
    expect(first.outgoingSince!.getTime()).toBeGreaterThanOrEqual(before);
    const since = new Date("2026-01-01T00:00:00Z");
    expect(first.enqueuedThrough).toEqual(a.enqueuedAt);
    expect(outbox.carry({ outgoing: [a], outgoingSince: since }, [b])).toEqual({
      outgoing: [a, b],
      outgoingSince: since,
      enqueuedThrough: a.enqueuedAt,
    });
    // The document's last stamp is kept when the write carries nothing (the next stamps after it).
    const through = new Date(a.enqueuedAt.getTime() + 60_000);
    expect(
      outbox.carry({ outgoing: [], outgoingSince: null, enqueuedThrough: through }, []),
    ).toEqual({ outgoing: [], outgoingSince: null, enqueuedThrough: through });
    expect(outbox.carry({ outgoing: [], outgoingSince: null }, [])).toEqual({
      outgoing: [],
      outgoingSince: null,
      enqueuedThrough: null,
    });
  });

  it("addresses a carrier's documents as registered, by _id otherwise", () => {
    const db = freshDb("address");
    const outbox = new Outbox(db, "persons");
    const persons = db.collection("persons");
    expect(outbox.addressOf(persons)).toBe(byId);
    expect(byId({ _id: "p1", region: "44", other: 1 })).toEqual({ _id: "p1" });
    const byRegion = (doc: Document) => ({ region: doc["region"], _id: doc["_id"] });
    outbox.carriedIn(persons, byRegion);
    expect(outbox.addressOf(db.collection("persons"))).toBe(byRegion);
    expect(outbox.addressOf(db.collection("other"))).toBe(byId);
    outbox.carriedIn(db.collection("other"));
    expect(outbox.addressOf(db.collection("other"))).toBe(byId);
  });

  it("creates the relay's indexes, and a partial index of the documents still carrying events", async () => {
    const db = freshDb("indexes");
    const outbox = new Outbox(db, "persons");
    outbox.carriedIn(db.collection("persons"));
    await outbox.ensureIndexes();
    const names = async (name: string) =>
      (await db.collection(name).indexes()).map((index) => index.name);
    expect(await names("outbox")).toEqual(
      expect.arrayContaining(["pending_by_destination", "oldest_pending"]),
    );
    expect(
      (await db.collection("outbox").indexes()).find((i) => i.name === "pending_by_destination")
        ?.key,
    ).toEqual({
      destination: 1,
      enqueuedAt: 1,
      _id: 1,
    });
    expect(await names("dead_letters")).toContain("dead_at");
    const stranded = (await db.collection("persons").indexes()).find(
      (index) => index.name === "outgoing_stranded",
    );
    expect(stranded?.key).toEqual({ outgoingSince: 1 });
    expect(stranded?.["partialFilterExpression"]).toEqual({
      outgoingSince: { $gt: new Date(0) },
    });
  });

  it("adds an event inside a transaction and tells the relay once it commits; the scope gets what to wait for", async () => {
    const outbox = new Outbox(freshDb("add"), "persons");
    const { calls, tracked } = listening(outbox);
    const scope = new EffectScope();
    const eventId = await runTransaction(outbox.events.db, async (session) => {
      const id = await outbox.add(session, newEvent("PersonRegistered", { personId: "p1" }), scope);
      expect(calls).toEqual([]);
      return id;
    });
    expect(calls).toEqual([{ ids: [`${eventId}:cards`, `${eventId}:passwords`], track: true }]);
    expect(scope.deliveries).toEqual([tracked]);
    expect(await outbox.events.countDocuments({ eventId })).toBe(2);
    await runTransaction(outbox.events.db, (session) =>
      outbox.add(session, newEvent("PersonRegistered", { personId: "p2" }), null),
    );
    expect(calls[1]?.track).toBe(false);
  });

  it("releases what a document carries into the outbox and clears it, unless the document has changed since", async () => {
    const db = freshDb("release");
    const outbox = new Outbox(db, "persons");
    const { calls } = listening(outbox);
    const { persons, carrier } = carriers(db);
    outbox.carriedIn(carrier);
    const docs = outbox.prepare(newEvent("PersonRegistered", { personId: "p1" }));
    await persons.insertOne({ _id: "p1", version: 2, ...outbox.carry({}, docs) });
    const scope = new EffectScope();
    await outbox.release(carrier, { _id: "p1", version: 2, outgoing: docs }, scope);
    expect(await outbox.events.countDocuments()).toBe(2);
    expect(await persons.findOne({ _id: "p1" })).toEqual({
      _id: "p1",
      version: 2,
      outgoing: [],
      outgoingSince: null,
      // The document's last stamp stays once its events are released: later ones follow it.
      enqueuedThrough: docs[0]!.enqueuedAt,
    });
    expect(calls).toEqual([{ ids: docs.map((d) => d._id).sort(), track: true }]);
    expect(scope.deliveries).toHaveLength(1);

    // Written again since (version 3 carries them along): stored once, left for its writer.
    const later = outbox.prepare(newEvent("PersonRegistered", { personId: "p2" }));
    await persons.insertOne({ _id: "p2", version: 3, ...outbox.carry({}, later) });
    await outbox.release(carrier, { _id: "p2", version: 2, outgoing: later }, null);
    await outbox.release(carrier, { _id: "p2", version: 2, outgoing: later }, null);
    expect(await outbox.events.countDocuments({ eventId: later[0]!.eventId })).toBe(2);
    expect((await persons.findOne({ _id: "p2" }))?.["outgoing"]).toHaveLength(2);
    expect(calls.at(-1)?.track).toBe(false);

    // Nothing carried: nothing to do.
    const count = calls.length;
    await outbox.release(carrier, { _id: "p3", version: 1 }, null);
    await outbox.release(carrier, { _id: "p3", version: 1, outgoing: [] }, null);
    expect(calls).toHaveLength(count);
  });

  it("a writer that took long and finds its events released by the sweep follows them instead of storing them again", async () => {
    const db = freshDb("release_late");
    const outbox = new Outbox(db, "persons", { strandedAfterMs: 100 });
    const { calls } = listening(outbox);
    const { persons, carrier } = carriers(db);
    outbox.carriedIn(carrier);
    const docs = outbox.prepare(newEvent("PersonRegistered", { personId: "p1" })) as [
      OutboxDocument,
      OutboxDocument,
    ];
    // Released by the sweep: one delivered (gone), one still pending.
    await persons.insertOne({ _id: "p1", version: 1, outgoing: [], outgoingSince: null });
    await outbox.events.insertOne(docs[1]);
    const longAgo = performance.now() - 51;
    await outbox.release(
      carrier,
      { _id: "p1", version: 1, outgoing: docs },
      new EffectScope(),
      longAgo,
    );
    expect(await outbox.events.countDocuments()).toBe(1);
    expect(calls).toEqual([{ ids: [docs[1]._id], track: true }]);

    // Still carried (the sweep has not run): released as usual.
    await persons.insertOne({ _id: "p2", version: 1, ...outbox.carry({}, docs) });
    await outbox.release(carrier, { _id: "p2", version: 1, outgoing: docs }, null, longAgo);
    expect(await outbox.events.countDocuments()).toBe(2);
    expect((await persons.findOne({ _id: "p2" }))?.["outgoing"]).toEqual([]);

    // Quick enough: no read, stored even though the document no longer carries them.
    await outbox.events.deleteMany({});
    await outbox.release(
      carrier,
      { _id: "p1", version: 1, outgoing: docs },
      null,
      performance.now(),
    );
    expect(await outbox.events.countDocuments()).toBe(2);
  });

  it("inside a transaction, stores the carried events not stored yet and tells the relay of all of them", async () => {
    const outbox = new Outbox(freshDb("carried_in"), "persons");
    const { calls } = listening(outbox);
    const docs = outbox.prepare(newEvent("PersonRegistered", { personId: "p1" })) as [
      OutboxDocument,
      OutboxDocument,
    ];
    await outbox.events.insertOne(docs[0]);
    await runTransaction(outbox.events.db, (session) =>
      outbox.releaseCarriedIn(session, docs, new EffectScope()),
    );
    expect(await outbox.events.countDocuments()).toBe(2);
    expect(calls).toEqual([{ ids: docs.map((d) => d._id).sort(), track: true }]);
    await runTransaction(outbox.events.db, async (session) => {
      await outbox.releaseCarriedIn(session, undefined, null);
      await outbox.releaseCarriedIn(session, [], null);
    });
    expect(calls).toHaveLength(1);
  });

  it("follows the events still pending of a replayed request", async () => {
    const outbox = new Outbox(freshDb("follow"), "persons");
    const { calls } = listening(outbox);
    const docs = outbox.prepare(newEvent("PersonRegistered", { personId: "p1" })) as [
      OutboxDocument,
      OutboxDocument,
    ];
    await outbox.events.insertOne(docs[0]);
    await outbox.follow(undefined, null);
    await outbox.follow([], null);
    await outbox.follow(["gone"], null);
    expect(calls).toEqual([]);
    await outbox.follow([docs[0]._id, docs[1]._id], null);
    expect(calls).toEqual([{ ids: [docs[0]._id], track: false }]);
  });

  it("runs each registered sweep with its stranded age and answers by name", async () => {
    const outbox = new Outbox(freshDb("sweeps"), "persons", { strandedAfterMs: 250 });
    expect(await outbox.runSweeps()).toEqual(new Map());
    const ages: number[] = [];
    outbox.onSweep("claims", async (age) => {
      ages.push(age);
      return 2;
    });
    outbox.onSweep("other", async () => 0);
    expect(await outbox.runSweeps()).toEqual(
      new Map([
        ["claims", 2],
        ["other", 0],
      ]),
    );
    expect(ages).toEqual([250]);
  });

  it("releases the events of documents stranded for longer than asked, and counts them", async () => {
    const db = freshDb("stranded");
    const outbox = new Outbox(db, "persons");
    const { calls } = listening(outbox);
    const { persons, carrier } = carriers(db);
    outbox.carriedIn(carrier);
    const old = outbox.prepare(newEvent("PersonRegistered", { personId: "p1" }));
    const fresh = outbox.prepare(newEvent("PersonRegistered", { personId: "p2" }));
    await persons.insertMany([
      { _id: "p1", version: 1, outgoing: old, outgoingSince: new Date(Date.now() - 60_000) },
      { _id: "p2", version: 1, outgoing: fresh, outgoingSince: new Date() },
      { _id: "p3", version: 1, outgoing: [], outgoingSince: null },
    ]);
    expect(await outbox.releaseStranded(30_000)).toBe(2);
    expect(calls).toEqual([{ ids: old.map((d) => d._id).sort(), track: false }]);
    expect((await persons.findOne({ _id: "p1" }))?.["outgoingSince"]).toBeNull();
    expect((await persons.findOne({ _id: "p2" }))?.["outgoing"]).toHaveLength(2);
    expect(await outbox.releaseStranded(30_000)).toBe(0);
    expect(await outbox.releaseStranded(0)).toBe(2);
  });

  it("turns a stored document into the event a receiver gets", () => {
    const doc = outboxDocument("e1", "cards");
    expect(Outbox.toHubEvent(doc)).toEqual({
      id: "e1",
      type: "PersonRegistered",
      payload: { personId: "p1" },
      actor: "t",
      channel: "COUNTER",
      occurredAt: "2026-11-25T08:00:00.000Z",
      source: "persons",
    });
  });
});

describe("the relay's helpers", () => {
  it("tells the relay's own commands from a request's", () => {
    for (const target of ["outbox", "outbox_lanes", "dead_letters"])
      expect(isRelayCommand("find", { find: target }), target).toBe(true);
    expect(isRelayCommand("find", { find: "cards", comment: "hub:poll" })).toBe(true);
    expect(isRelayCommand("aggregate", { aggregate: "cards", comment: "hub:observe" })).toBe(true);
    expect(isRelayCommand("find", { find: "cards", filter: { outgoingSince: { $gt: 0 } } })).toBe(
      true,
    );
    expect(isRelayCommand("find", { find: "cards" })).toBe(false);
    expect(isRelayCommand("find", { find: "cards", comment: "other", filter: { _id: 1 } })).toBe(
      false,
    );
    expect(isRelayCommand("find", { find: "cards", filter: null })).toBe(false);
    expect(isRelayCommand("find", { find: "cards", filter: "outgoingSince" })).toBe(false);
    expect(isRelayCommand("insert", { find: "outbox", insert: "cards" })).toBe(false);
  });

  it("a server with its relay stops the relay first", async () => {
    const order: string[] = [];
    const relay = {
      deadLetters: {} as DeadLetters,
      stats: async () => ({
        pending: 0,
        oldestPendingMs: 0,
        delivered: 0,
        failedAttempts: 0,
        deadLetters: 0,
      }),
      stop: async () => {
        order.push("relay");
      },
    };
    const both = withRelay(
      {
        url: "http://x/graphql",
        stop: async () => {
          order.push("server");
        },
      },
      relay,
    );
    expect(both.url).toBe("http://x/graphql");
    expect(both.relay).toBe(relay);
    await both.stop();
    expect(order).toEqual(["relay", "server"]);
  });
});
