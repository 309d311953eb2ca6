import { useTestMongo } from "@hub/kit/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CardEventType } from "../rules/card-event-types.js";
import type { CardEventDocument } from "../store/card-event-document.js";
import type { LogFilter } from "../store/card-event-log.js";
import { LogTail, matches, type TailSource } from "../store/log-tail.js";
import { freshLog, logEntry } from "../testing/log-fixtures.js";
import { tailLog } from "./tail-log.js";

const TYPES: CardEventType[] = ["LOSS_REPORTED", "CARD_CANCELLED"];

/**
 * The log in memory, committed in number order as the real one is: what a read returns is what
 * was appended when it was called (the scheduler below may hand it back much later).
 */
class MemoryLog implements TailSource {
  readonly entries: CardEventDocument[] = [];
  reads = 0;

  append(personId: string, type: CardEventType): CardEventDocument {
    const seq = this.entries.length + 1;
    const stored: CardEventDocument = { ...logEntry(`e${seq}`, personId), type, seq };
    this.entries.push(stored);
    return stored;
  }

  async read(
    afterSeq: number,
    filter: LogFilter,
    limit: number,
    throughSeq?: number,
  ): Promise<CardEventDocument[]> {
    this.reads += 1;
    return this.entries
      .filter((e) => e.seq > afterSeq && (throughSeq === undefined || e.seq <= throughSeq))
      .filter((e) => matches(filter, e))
      .slice(0, limit);
  }

  async newestSeq(): Promise<number> {
    return this.entries.at(-1)?.seq ?? 0;
  }
}

/** What a client of one subscription holds: every event it received, across its resumes. */
interface Client {
  filter: LogFilter;
  /** The position of its first subscription: it must get exactly the matching entries after it. */
  start: number;
  received: number[];
  current: { stream: AsyncIterableIterator<CardEventDocument>; left: boolean };
  reading: Promise<void>[];
}

const action = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      // Appended by this process (its tail takes it at once) or by another replica (found by a poll).
      local: fc.boolean(),
      person: fc.integer({ min: 0, max: 2 }),
      type: fc.constantFrom(...TYPES),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("subscribe" as const),
      person: fc.option(fc.integer({ min: 0, max: 2 })),
      type: fc.option(fc.constantFrom(...TYPES)),
      // null: from the newest entry (no cursor); otherwise a cursor that far back in the log.
      back: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("resume" as const), which: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("poll" as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("step" as const),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("a feed process's one tail of the log, and the streams reading it (store/log-tail.ts, tail-log.ts)", () => {
  it("every stream gets exactly the matching entries after its position, in order, across appends here and elsewhere, polls, small buffers, catch-ups and resumes in any interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(action, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        async (s, actions, capacity, batch, lateSnapshots) => {
          const log = new MemoryLog();
          // Every read the tail and the streams make is answered when the scheduler decides, and
          // sees the log as it was when it was sent or as it is when it is answered (a database
          // reads somewhere in between), in turns given by `lateSnapshots`.
          let reads = 0;
          const late = () => lateSnapshots[reads++ % lateSnapshots.length]!;
          const answered = <A extends unknown[], T>(run: (...args: A) => Promise<T>) => {
            const early = s.scheduleFunction(run);
            return (...args: A): Promise<T> =>
              late() ? s.schedule(Promise.resolve()).then(() => run(...args)) : early(...args);
          };
          const source: TailSource = {
            read: answered((...args: Parameters<MemoryLog["read"]>) => log.read(...args)),
            newestSeq: answered(() => log.newestSeq()),
          };
          // Polls happen when the actions say (the timer never fires within a run).
          const tail = new LogTail({ source, pollMs: 3_600_000, capacity, batch });
          const clients: Client[] = [];
          const open = (client: Client, afterSeq: number) => {
            const stream = tailLog({ log: source, tail, filter: client.filter, afterSeq, batch });
            const current = { stream, left: false };
            client.current = current;
            client.reading.push(
              (async () => {
                for await (const entry of stream) {
                  // A client that left records nothing more: it resumes from what it recorded.
                  if (current.left) break;
                  client.received.push(entry.seq);
                }
              })(),
            );
          };
          // The tail's invariant: its buffer holds exactly the log's entries in (floor, newest].
          const bufferIsExact = () => {
            const held = tail.since(tail.floor)!.entries.map((e) => e.seq);
            const range = log.entries.filter((e) => e.seq > tail.floor && e.seq <= tail.newest);
            expect(held).toEqual(range.map((e) => e.seq));
          };
          for (const step of actions) {
            bufferIsExact();
            if (step.kind === "append") {
              const entry = log.append(`p${step.person}`, step.type);
              if (step.local) tail.appended(entry);
            } else if (step.kind === "subscribe") {
              const newest = log.entries.length;
              const start = step.back === null ? newest : Math.floor(newest * step.back);
              const client: Client = {
                filter: {
                  personId: step.person === null ? null : `p${step.person}`,
                  types: step.type === null ? null : [step.type],
                },
                start,
                received: [],
                current: undefined as unknown as Client["current"],
                reading: [],
              };
              clients.push(client);
              open(client, start);
            } else if (step.kind === "resume" && clients.length > 0) {
              const client = clients[step.which % clients.length]!;
              client.current.left = true;
              void client.current.stream.return?.();
              open(client, client.received.at(-1) ?? client.start);
            } else if (step.kind === "poll") {
              void tail.poll();
            } else if (step.kind === "step") {
              for (let i = 0; i < step.count && s.count() > 0; i++) await s.waitNext(1);
              await settle();
            }
          }
          // Quiet: the tail reads everything, every stream drains.
          for (let round = 0; round < 10; round++) {
            void tail.poll();
            await s.waitIdle();
            await settle();
          }
          bufferIsExact();
          for (const client of clients) {
            const expected = log.entries
              .filter((e) => e.seq > client.start && matches(client.filter, e))
              .map((e) => e.seq);
            expect(client.received).toEqual(expected);
          }
          for (const client of clients) void client.current.stream.return?.();
          await s.waitIdle();
          await Promise.all(clients.flatMap((c) => c.reading));
          expect(tail.stats().open).toBe(0);
          tail.stop();
        },
      ),
      { numRuns: Number(process.env["HUB_FUZZ_RUNS"] ?? 300) },
    );
  });

  it("a thousand idle streams cost the log one read per poll, and wake only for their own entries", async () => {
    const log = new MemoryLog();
    const tail = new LogTail({ source: log, pollMs: 3_600_000, capacity: 100 });
    const received = new Map<string, number[]>();
    const streams = Array.from({ length: 1_000 }, (_, i) => {
      const personId = `p${i}`;
      received.set(personId, []);
      const stream = tailLog({ log, tail, filter: { personId }, afterSeq: 0 });
      const reading = (async () => {
        for await (const entry of stream) received.get(personId)!.push(entry.seq);
      })();
      return { stream, reading };
    });
    await tail.poll();
    await settle();
    const before = log.reads;
    // Another replica appends for three persons; one poll reads them for everyone.
    for (const person of [7, 7, 500]) log.append(`p${person}`, "LOSS_REPORTED");
    await tail.poll();
    await settle();
    expect(log.reads - before).toBe(1);
    expect(received.get("p7")).toEqual([1, 2]);
    expect(received.get("p500")).toEqual([3]);
    expect([...received.values()].flat()).toHaveLength(3);
    // Nobody is behind: the idle ones moved on without reading anything.
    expect(tail.stats()).toMatchObject({ open: 1_000, catchingUp: 0, maxLag: 0 });
    // An append of this process joins without any read.
    tail.appended(log.append("p999", "CARD_CANCELLED"));
    await settle();
    expect(received.get("p999")).toEqual([4]);
    expect(log.reads - before).toBe(1);

    await Promise.all(streams.map(({ stream }) => stream.return?.()));
    await Promise.all(streams.map(({ reading }) => reading));
    expect(tail.stats().open).toBe(0);
    tail.stop();
  });

  it("lag: the log's newest entry minus the last one a stream was handed; a slow stream shows it", async () => {
    const log = new MemoryLog();
    const tail = new LogTail({ source: log, pollMs: 3_600_000, capacity: 10 });
    const stream = tailLog({ log, tail, filter: {}, afterSeq: 0 });
    for (let i = 0; i < 5; i++) tail.appended(log.append("p1", "LOSS_REPORTED"));
    // Nothing taken from the stream yet: it has been handed nothing of the five.
    expect(tail.stats(5)).toMatchObject({ open: 1, maxLag: 5, newest: 5, buffered: 5 });
    expect((await stream.next()).value?.seq).toBe(1);
    expect(tail.stats(5).maxLag).toBe(4);
    // Another replica appended two the tail has not read: they count too.
    expect(tail.stats(7).maxLag).toBe(6);
    await stream.return?.();
    expect(tail.stats(7)).toMatchObject({ open: 0, maxLag: 0 });
    tail.stop();
  });
});

describe("the tail on the database (commands/tail-log.ts with CardEventLog)", () => {
  const client = useTestMongo();

  it("gives what follows its position, then each new entry, once and in order — another replica's through the poll, old ones from the database — and ends when closed", async () => {
    const { log } = await freshLog(client(), "feed_tail");
    for (const id of ["t1", "x0", "t2"])
      await log.append(logEntry(id, id.startsWith("x") ? "p_x" : "p_1"));
    // A buffer of two entries: the stream's start (entry 0) is older, read from the database.
    const tail = new LogTail({ source: log, pollMs: 20, capacity: 2 });
    const stream = tailLog({ log, tail, filter: { personId: "p_1" }, afterSeq: 0, batch: 1 });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of stream) {
        seen.push(e._id);
        if (seen.length === 6) break;
      }
    })();
    for (const id of ["t3", "x1", "t4"]) {
      const { stored } = await log.append(logEntry(id, id.startsWith("x") ? "p_x" : "p_1"));
      tail.appended(stored);
    }
    // Appended by "another replica": found by the tail's poll, no in-process wake-up.
    await log.append(logEntry("t5", "p_1"));
    await log.append(logEntry("t6", "p_1"));
    await reading;
    expect(seen).toEqual(["t1", "t2", "t3", "t4", "t5", "t6"]);

    // Closing a stream that waits for news ends it at once, and the tail forgets it.
    const idle = tailLog({ log, tail, filter: {}, afterSeq: await log.newestSeq() });
    const next = idle.next();
    await idle.return?.();
    expect(await next).toEqual({ done: true, value: undefined });
    expect(tail.stats().open).toBe(0);
    tail.stop();
  });
});
