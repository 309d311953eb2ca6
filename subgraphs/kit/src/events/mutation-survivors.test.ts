import type { Collection, Db, Document } from "mongodb";
import { ObjectId } from "mongodb";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HubError } from "../errors.js";
import { createLogger } from "../logger.js";
import { newEvent, receivedEvent } from "../testing/events.js";
import { eventsReceiver } from "../testing/events-receiver.js";
import { testRelay, until } from "../testing/relay-harness.js";
import { useRecordedMongo } from "../testing/recorded-mongo.js";
import { parsePayload } from "./catalogue.js";
import type { HubEvent } from "./hub-event.js";
import { Inbox } from "./inbox.js";
import type { OutboxDocument } from "./outbox-document.js";
import { Outbox } from "./outbox.js";
import { isRelayCommand } from "./relay.js";

/**
 * Tests for the mutants the event modules' last Stryker run left alive that a small,
 * deterministic test can kill (docs/mutation-testing.md "Surviving mutants / Event modules"):
 * each was seen failing with its mutation made by hand. Real (embedded) database where the
 * module writes; a `hello` of the test's making where the inbox asks who the primary is.
 */
const { commands, freshDb } = useRecordedMongo();

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  commands.length = 0;
});

describe("the catalogue: an account change's card holder", () => {
  it("accepts a personId of any non-empty length, refuses an empty one", () => {
    const change = { cardId: "c1", status: "ACTIVE", accountVersion: 2 };
    for (const personId of ["p", "p12345", null]) {
      expect(
        parsePayload("BankAccountStatusChanged", { ...change, personId }).ok,
        String(personId),
      ).toBe(true);
      expect(
        parsePayload("FinancialFunctionActivated", { ...change, agent: null, personId }).ok,
        String(personId),
      ).toBe(true);
    }
    expect(parsePayload("BankAccountStatusChanged", { ...change, personId: "" }).ok).toBe(false);
  });
});

/** The hello answers of a replica set, one per question (the last one repeated). */
interface Hello {
  setName?: string;
  hosts?: string[];
  me?: string;
  electionId?: ObjectId;
}

/**
 * `db` where `hello` answers as `answers` say, one after the other, and is counted; every other
 * command goes to the real database.
 */
function withHellos(db: Db, answers: Hello[]): { db: Db; hellos: () => number } {
  let asked = 0;
  const admin = {
    command: async () => ({ ...answers[Math.min(asked++, answers.length - 1)] }),
  };
  return {
    db: new Proxy(db, {
      get: (target, property, receiver) =>
        property === "admin" ? () => admin : Reflect.get(target, property, receiver),
    }),
    hellos: () => asked,
  };
}

const threeMembers = (electionId: ObjectId, me = "rs-1:27017"): Hello => ({
  setName: "rs",
  hosts: ["rs-1:27017", "rs-2:27017", "rs-3:27017"],
  me,
  electionId,
});

function inboxOn(db: Db | undefined, fail: (personId: string) => unknown = () => undefined) {
  const noop = async () => undefined;
  return new Inbox(
    "passwords",
    {
      CardIssued: noop,
      CardStatusChanged: noop,
      PersonRegistered: async (event) => {
        const error = fail(event.payload.personId);
        if (error) throw error;
      },
    },
    db,
  );
}

const registration = (n: number) =>
  receivedEvent(`e${n}`, "PersonRegistered", { personId: `p${n}` });

/** The inbox's writes of its majority marks in `db`, as the driver sent them. */
const markWrites = (db: Db) =>
  commands.filter(
    (c) => c.db === db.databaseName && c.name === "update" && c.command["update"] === "inbox_marks",
  );

describe("the inbox's majority marks and its view of the replica set", () => {
  it("creates its marks' collection at start-up; without a database it has none to create", async () => {
    const db = freshDb("inbox_indexes");
    await inboxOn(db).ensureIndexes();
    const created = commands.filter((c) => c.db === db.databaseName && c.name === "createIndexes");
    expect(created.map((c) => [c.command["createIndexes"], c.command["indexes"]])).toEqual([
      ["inbox_marks", [expect.objectContaining({ name: "_id_1" })]],
    ]);
    expect((await db.collection("inbox_marks").indexes()).map((i) => i.key)).toContainEqual({
      _id: 1,
    });
    await expect(inboxOn(undefined).ensureIndexes()).resolves.toBeUndefined();
  });

  it("writes no mark when no event of the batch was applied (the first one failed)", async () => {
    const term = new ObjectId();
    const { db } = withHellos(freshDb("inbox_none_applied"), [threeMembers(term)]);
    const result = await inboxOn(db, () => new Error("refused")).applyBatch([registration(1)]);
    expect(result).toMatchObject({ applied: 0, failed: { eventId: "e1", error: "refused" } });
    expect(markWrites(db)).toEqual([]);
    expect(await db.collection("inbox_marks").countDocuments({})).toBe(0);
    // The same set with one event applied: one mark, for its one event.
    await inboxOn(db).applyBatch([registration(2)]);
    expect(markWrites(db)).toHaveLength(1);
  });

  it("a new primary in the same election term (another member named) is a change of primary", async () => {
    const term = new ObjectId();
    // Asked: the members, the primary before the batch, the primary after its mark.
    const { db } = withHellos(freshDb("inbox_other_member"), [
      threeMembers(term),
      threeMembers(term, "rs-1:27017"),
      threeMembers(term, "rs-2:27017"),
    ]);
    await expect(inboxOn(db).applyBatch([registration(1)])).rejects.toThrow(
      "the primary changed while the batch was applied; it is sent again",
    );
  });

  it("a server that does not say it is a replica set (no setName) is not taken for a set of one", async () => {
    const term = new ObjectId();
    const { db, hellos } = withHellos(freshDb("inbox_no_set_name"), [
      { hosts: ["rs-1:27017"], me: "rs-1:27017", electionId: term },
    ]);
    await inboxOn(db).applyBatch([registration(1)]);
    // The members, the primary before and after the batch; and the mark.
    expect(hellos()).toBe(3);
    expect(markWrites(db)).toHaveLength(1);
    // A set of one (setName given) is asked only who its members are, and writes no mark.
    const alone = withHellos(freshDb("inbox_set_of_one"), [
      { setName: "rs", hosts: ["rs-1:27017"], me: "rs-1:27017", electionId: term },
    ]);
    await inboxOn(alone.db).applyBatch([registration(1)]);
    expect(alone.hellos()).toBe(1);
    expect(markWrites(alone.db)).toEqual([]);
  });

  it("asks who the members are once a minute, not for every batch (to the millisecond)", async () => {
    const { db, hellos } = withHellos(freshDb("inbox_membership"), [
      { setName: "rs", hosts: ["rs-1:27017"] },
    ]);
    const inbox = inboxOn(db);
    const batchAt = async (now: number) => {
      const clock = vi.spyOn(performance, "now").mockReturnValue(now);
      try {
        await inbox.applyBatch([registration(1)]);
      } finally {
        clock.mockRestore();
      }
    };
    await batchAt(1_000);
    expect(hellos()).toBe(1);
    await batchAt(60_999);
    expect(hellos()).toBe(1);
    await batchAt(61_000);
    expect(hellos()).toBe(2);
    await batchAt(61_001);
    expect(hellos()).toBe(2);
  });

  it("a HubError of another code than SERVICE_UNAVAILABLE is the event's failure, not the receiver's", async () => {
    const refusing = inboxOn(undefined, (personId) =>
      personId === "p2" ? new HubError("CONFLICT", "the card changed meanwhile") : undefined,
    );
    expect(await refusing.applyBatch([registration(1), registration(2)])).toMatchObject({
      applied: 1,
      failed: { eventId: "e2", error: "the card changed meanwhile" },
    });
    const unavailable = inboxOn(
      undefined,
      () => new HubError("SERVICE_UNAVAILABLE", "database unavailable"),
    );
    await expect(unavailable.applyBatch([registration(1)])).rejects.toThrow("database unavailable");
  });
});

describe("the outbox's sweeps and stranded releases collect their failures", () => {
  it("runs every sweep, then throws the failures together as 'outbox sweeps failed'", async () => {
    const outbox = new Outbox(freshDb("sweeps_failed"), "persons");
    const boom = new Error("boom");
    const ran: string[] = [];
    outbox.onSweep("failing", async () => {
      ran.push("failing");
      throw boom;
    });
    outbox.onSweep("working", async () => {
      ran.push("working");
      return 1;
    });
    const error = await outbox.runSweeps().then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).message).toBe("outbox sweeps failed");
    expect((error as AggregateError).errors).toEqual([boom]);
    expect(ran).toEqual(["failing", "working"]);
  });

  it("releases the other stranded documents, then throws as 'stranded events not released'", async () => {
    const db = freshDb("stranded_failed");
    const outbox = new Outbox(db, "persons");
    const persons = db.collection<{ _id: string } & Document>("persons");
    const unaddressable = new Error("no address for p1");
    // The address of p1 cannot be made: its release fails before it writes anything.
    outbox.carriedIn(persons as unknown as Collection<Document>, (doc) => {
      if (doc["_id"] === "p1") throw unaddressable;
      return { _id: doc["_id"] };
    });
    const long = new Date(Date.now() - 60_000);
    await persons.insertMany([
      {
        _id: "p1",
        version: 1,
        outgoing: outbox.prepare(newEvent("PersonRegistered", { personId: "p1" })),
        outgoingSince: long,
      },
      {
        _id: "p2",
        version: 1,
        outgoing: outbox.prepare(newEvent("PersonRegistered", { personId: "p2" })),
        outgoingSince: long,
      },
    ]);
    const error = await outbox.releaseStranded(30_000).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).message).toBe("stranded events not released");
    expect((error as AggregateError).errors).toEqual([unaddressable]);
    expect((await persons.findOne({ _id: "p2" }))?.["outgoingSince"]).toBeNull();
    expect((await persons.findOne({ _id: "p1" }))?.["outgoingSince"]).toEqual(long);
    expect(await outbox.events.countDocuments({ "payload.personId": "p2" })).toBe(2);
  });
});

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const WARN = 40;

/** The kit's logger writing to a list. */
function recordingLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger("mutation-survivors", "debug", {
    write: (line: string) => void lines.push(JSON.parse(line) as LogLine),
  });
  return { logger, withMsg: (msg: string) => lines.filter((line) => line.msg === msg) };
}

/** A receiver's `/events` stand-in applying every event (eventsReceiver), closed after the test. */
async function receiver() {
  const target = await eventsReceiver();
  cleanups.push(() => target.close());
  return target;
}

/** The passwords subgraph's outbox: InitialPasswordChanged goes to cards alone. */
const passwordsOutbox = (name: string) => new Outbox(freshDb(name), "passwords");
const changed = (n: number) => newEvent("InitialPasswordChanged", { cardId: `c${n}` });

/**
 * A passwords outbox holding c1, c2 and c3 in that order, c2 (`unsendable`) stored as another
 * writer left it: its occurredAt is no date, so no event can be made of it. A relay polling
 * every `pollMs`, one attempt per event, sends them to a receiver until the outbox is empty.
 */
async function relayedPastUnsendable(name: string, pollMs: number) {
  const outbox = passwordsOutbox(name);
  const at = Date.now();
  const [c1, c2, c3] = [1, 2, 3].map((n, i) => ({
    ...outbox.prepare(changed(n))[0]!,
    enqueuedAt: new Date(at + i),
  }));
  const broken = { ...c2!, occurredAt: "yesterday" as unknown as Date };
  await outbox.events.insertMany([c1!, broken, c3!] as OutboxDocument[]);
  const target = await receiver();
  const relay = testRelay(outbox, () => target.url, { pollMs, maxAttempts: 1 });
  cleanups.push(() => relay.stop());
  await until(async () => (await outbox.events.countDocuments()) === 0, 10_000);
  return { relay, target, unsendable: c2! };
}

describe("the relay", () => {
  it("tells the inbox's majority marks for its own commands", () => {
    expect(
      isRelayCommand("update", {
        update: "inbox_marks",
        updates: [{ q: { _id: "passwords" }, u: { $inc: { applied: 1 } }, upsert: true }],
      }),
    ).toBe(true);
  });

  it("dead-letters a stored document that does not make an event ('not an event: …'); the batch before it and the events after it go", async () => {
    const { relay, target, unsendable } = await relayedPastUnsendable("unsendable", 20);
    expect(target.batches()).toEqual([["c1"], ["c3"]]);
    const [letter, ...others] = await relay.deadLetters.list();
    expect(others).toEqual([]);
    expect(letter?._id).toBe(unsendable._id);
    expect(letter?.lastError).toMatch(/^not an event: .*toISOString/);
  });

  it("a batch cut short by a document that cannot be sent goes on to that document at once, not at the next poll", async () => {
    // One poll, at the start: the lane is drained then, and no later poll comes to finish it.
    const { relay, target, unsendable } = await relayedPastUnsendable(
      "unsendable_at_once",
      600_000,
    );
    expect(target.batches()).toEqual([["c1"], ["c3"]]);
    expect((await relay.deadLetters.list()).map((letter) => letter._id)).toEqual([unsendable._id]);
  });

  it("logs a poll step that hangs once, with its name and time limit (4 polls, at least 2 s), and clears each step's timer", async () => {
    const outbox = passwordsOutbox("step_hangs");
    const log = recordingLogger();
    const target = await receiver();
    let release = () => undefined as void;
    const hanging = vi.fn(() => new Promise<number>((resolve) => (release = () => resolve(0))));
    cleanups.push(() => release());
    outbox.onSweep("hanging", hanging);
    // Each poll releases stranded events once, in the step before the sweeps.
    const stranded = vi.spyOn(outbox, "releaseStranded");
    const STEP_MS = 2_400;
    const stepTimers: unknown[] = [];
    const cleared = new Set<unknown>();
    const setTimer = globalThis.setTimeout;
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((
      callback: () => void,
      ms?: number,
      ...rest: unknown[]
    ) => {
      const timer = setTimer(callback, ms, ...rest);
      if (ms === STEP_MS) stepTimers.push(timer);
      return timer;
    }) as typeof setTimeout);
    const clearTimer = globalThis.clearTimeout;
    vi.spyOn(globalThis, "clearTimeout").mockImplementation(((timer) => {
      cleared.add(timer);
      clearTimer(timer);
    }) as typeof clearTimeout);
    const relay = testRelay(outbox, () => target.url, { pollMs: 600, logger: log.logger });
    cleanups.push(() => relay.stop());
    const hangs = () => log.withMsg("outbox relay poll step hangs");
    await until(async () => hangs().length > 0, 10_000);
    // Two more polls: the sweeps step, still under way, is not started again nor logged again.
    const polls = stranded.mock.calls.length;
    await until(async () => stranded.mock.calls.length >= polls + 2, 10_000);
    // Lines of the other steps are left out: on a loaded machine one of them may be slow too.
    const others = ["clock", "wake", "stranded", "lag"];
    expect(
      hangs()
        .filter((line) => !others.includes(String(line["step"])))
        .map((line) => [line.level, line["step"], line["afterMs"]]),
    ).toEqual([[WARN, "sweeps", STEP_MS]]);
    expect(hanging).toHaveBeenCalledTimes(1);
    // The first poll's five steps (clock, wake, stranded, sweeps, lag) each had a timer, cleared
    // once the step ended or was left behind.
    expect(stepTimers.length).toBeGreaterThanOrEqual(5);
    for (const timer of stepTimers.slice(0, 5)) expect(cleared.has(timer)).toBe(true);
  });
});
