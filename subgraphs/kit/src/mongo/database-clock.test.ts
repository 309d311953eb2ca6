import type { Collection } from "mongodb";
import { describe, expect, it } from "vitest";
import { EPOCH, LaneLeases, type LaneDocument, type Lease } from "../events/lane-lease.js";
import { Outbox } from "../events/outbox.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { DatabaseClock, helloLocalTime } from "./database-clock.js";

const client = useTestMongo();
let dbs = 0;
const freshDb = (name: string) => client().db(`${name}_${Date.now().toString(36)}_${dbs++}`);

/** A database server whose clock the test sets, and machines whose clocks are off by `skewMs`. */
function world() {
  const time = { server: 1_000_000 };
  const machine = (skewMs: number) =>
    new DatabaseClock(
      async () => new Date(time.server),
      () => time.server + skewMs,
    );
  return { time, machine };
}

describe("the database clock", () => {
  it("reads the server's time through the offset it measured, whatever the machine's own clock says", async () => {
    const { time, machine } = world();
    const ahead = machine(10_000);
    const behind = machine(-7_000);
    await Promise.all([ahead.calibrate(), behind.calibrate()]);
    expect(ahead.nowMs()).toBe(time.server);
    expect(behind.now()).toEqual(new Date(time.server));
    time.server += 1_234;
    expect(ahead.nowMs()).toBe(time.server);
  });

  it("never answers earlier than it answered before: a clock read 10 s ahead, then calibrated, stands still until the server's time passes it", async () => {
    const { time, machine } = world();
    const ahead = machine(10_000);
    const early = ahead.nowMs();
    expect(early).toBe(time.server + 10_000);
    await ahead.calibrate();
    expect(ahead.nowMs()).toBe(early);
    time.server += 9_999;
    expect(ahead.nowMs()).toBe(early);
    time.server += 2;
    expect(ahead.nowMs()).toBe(time.server);
  });

  it("halves the round trip, and keeps its last offset when a reading fails or tells no time", async () => {
    let local = 0;
    let answer: Date | undefined | "fail" = new Date(1_100);
    const clock = new DatabaseClock(
      async () => {
        local += 200; // the round trip: 100 ms each way
        if (answer === "fail") throw new Error("not reachable");
        return answer;
      },
      () => local,
    );
    await clock.calibrate();
    // Sent at 0, answered at 200: the server read 1,100 at local 100.
    expect(clock.nowMs()).toBe(local + 1_000);
    answer = "fail";
    await clock.calibrate();
    expect(clock.nowMs()).toBe(local + 1_000);
    answer = undefined;
    await clock.calibrate();
    expect(clock.nowMs()).toBe(local + 1_000);
  });

  it("takes the quickest of its readings, and none slower than half a second", async () => {
    let local = 0;
    const trips = [400, 40, 120];
    const clock = new DatabaseClock(
      async () => {
        const trip = trips.shift() ?? 10_000;
        local += trip / 2;
        const read = new Date(local + 5_000); // the server is 5 s ahead
        local += trip / 2;
        // A reply held up on the way back: read early, received late.
        if (trip === 400) local += 2_000;
        return read;
      },
      () => local,
    );
    await clock.calibrate();
    expect(clock.nowMs()).toBe(local + 5_000);
    // Only slow readings now: the offset measured before stands.
    trips.push(10_000, 10_000, 10_000);
    const before = clock.nowMs() - local;
    await clock.calibrate();
    expect(clock.nowMs() - local).toBe(before);
  });

  it("the embedded server tells no time: the local clock stands", async () => {
    const read = await helloLocalTime(client().db("admin"))();
    const clock = DatabaseClock.of(client().db("clock_embedded"));
    await clock.calibrate();
    if (read === undefined) expect(Math.abs(clock.nowMs() - Date.now())).toBeLessThan(1_000);
    else expect(read).toBeInstanceOf(Date);
  });

  it("a backoff written by a replica whose clock runs ahead ends for another replica when it ends in the database's time", async () => {
    const { time, machine } = world();
    const lanes = freshDb("clock_lanes").collection<LaneDocument>("outbox_lanes");
    const aClock = machine(10_000);
    const bClock = machine(-5_000);
    await Promise.all([aClock.calibrate(), bClock.calibrate()]);
    const a = new LaneLeases(lanes, "A", 1_000, () => 0, aClock);
    const b = new LaneLeases(lanes, "B", 1_000, () => 0, bClock);
    const lease = (await a.claim("cards", false)) as Lease;
    await a.backOff(lease, {
      attempts: 1,
      backoffMs: 2_000,
      error: "HTTP 503",
      eventFailed: false,
    });
    await a.release(lease);
    expect((await lanes.findOne({ _id: "cards" }))?.nextAttemptAt).toEqual(
      new Date(time.server + 2_000),
    );
    time.server += 1_999;
    expect(await b.claim("cards", false)).toBe("backing-off");
    time.server += 1;
    expect(await b.claim("cards", false)).toMatchObject({ destination: "cards", epoch: 2 });
    expect(EPOCH.getTime()).toBe(0);
  });

  it("events carried by a replica whose clock runs ahead count as stranded by the database's time", async () => {
    const { time, machine } = world();
    const db = freshDb("clock_stranded");
    const writer = new Outbox(db, "persons", { strandedAfterMs: 5_000, clock: machine(60_000) });
    const sweeper = new Outbox(db, "persons", { strandedAfterMs: 5_000, clock: machine(0) });
    const things = db.collection<{ _id: string; version: number }>("things");
    for (const outbox of [writer, sweeper])
      outbox.carriedIn(things as unknown as Collection<import("mongodb").Document>);
    await Promise.all([writer.clock.calibrate(), sweeper.clock.calibrate()]);
    const event = writer.prepare({
      type: "PersonRegistered",
      payload: { personId: "p1" },
      actor: "t",
      channel: "COUNTER",
      occurredAt: new Date(),
    });
    await things.insertOne({ _id: "t1", version: 1, ...writer.carry({}, event) });
    // Written just now: not stranded yet for the sweeper, stranded once the age has passed.
    expect(await sweeper.releaseStranded(sweeper.strandedAfterMs)).toBe(0);
    time.server += 5_000;
    expect(await sweeper.releaseStranded(sweeper.strandedAfterMs)).toBe(2);
  });
});
