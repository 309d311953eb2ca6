import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ClientSession, Collection, Db, Document, MongoClient } from "mongodb";
import type { EffectScope } from "../events/effects.js";
import { parseEventBatch } from "../events/event-batch.js";
import { injectFault, InjectedCrash, type FaultPoint } from "../events/fault-points.js";
import type { HubEvent } from "../events/hub-event.js";
import { Inbox, type AppliedBatch } from "../events/inbox.js";
import { Outbox } from "../events/outbox.js";
import { startOutboxRelay, type OutboxRelay } from "../events/relay.js";
import type { RelayOptions } from "../events/relay-settings.js";
import { createLogger } from "../logger.js";
import { changeOneDocument } from "../mongo/change-document.js";
import { runTransaction } from "../mongo/transactions.js";
import { registered } from "./events.js";

export interface ConsumerOptions {
  /** Deliveries answered 503 before any is applied. */
  failFirst?: number;
  /** Events whose person it refuses to apply. */
  poison?: (personId: string) => boolean;
  /**
   * The receiver's database is given to its Inbox (majority marks); `"three-members"`: as a
   * replica set of three members shows it (`hello`), where the marks are written.
   */
  withDb?: boolean | "three-members";
  /**
   * What to answer instead of the inbox's own answer; `apply` applies the events given.
   * `{ status, body? }` answers that HTTP status (with that JSON body, if given).
   */
  answer?: (
    events: HubEvent[],
    apply: (events: HubEvent[]) => Promise<AppliedBatch>,
  ) => Promise<unknown>;
}

/** `{ status, body? }`: an HTTP status of the test's choosing, with that JSON body if any. */
const isStatusAnswer = (answer: unknown): answer is { status: number; body?: unknown } =>
  typeof answer === "object" &&
  answer !== null &&
  Object.keys(answer).every((key) => key === "status" || key === "body") &&
  typeof (answer as { status?: unknown }).status === "number";

/** `db` as one of three members would show it: its own `hello`, with two more hosts. */
function asThreeMembers(db: Db): Db {
  const admin = db.admin();
  const command = async (cmd: Document) => {
    const answer = await admin.command(cmd);
    return "hello" in cmd ? { ...answer, setName: "rs", hosts: ["a:1", "b:1", "c:1"] } : answer;
  };
  return new Proxy(db, {
    get: (target, property, receiver) =>
      property === "admin"
        ? () => ({ command })
        : (Reflect.get(target, property, receiver) as unknown),
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(50);
  }
}

/** Delivers to `url` for passwords; cards (the other receiver) is never reached here. */
export const onlyPasswords =
  (url: () => string): RelayOptions["target"] =>
  (destination) =>
    destination === "passwords" ? url() : "http://127.0.0.1:1/events";

/** The pending events for passwords (those for cards are never delivered in these tests). */
export const pendingFor = (outbox: Outbox) =>
  outbox.events.countDocuments({ destination: "passwords" });

/** A relay as these tests run it: a fixed service token, no logs, and the options under test. */
export function testRelay(
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

/** A receiver a relay test started (relayHarness's consumer): its address, and its close. */
interface Receiver {
  url: string;
  close(): Promise<unknown>;
}

/**
 * Runs `test` while a relay (testRelay, with `options`) delivers `outbox` to `receiver`: the
 * events for passwords only (onlyPasswords), or every destination's with `everyDestination`.
 * Then stops the relay and closes the receiver, whether the test passed or not.
 */
export async function whileRelaying(
  outbox: Outbox,
  receiver: Receiver,
  options: Omit<Partial<RelayOptions>, "outbox" | "target"> & { everyDestination?: boolean },
  test: (relay: OutboxRelay) => Promise<void>,
): Promise<void> {
  const { everyDestination = false, ...relayOptions } = options;
  const url = () => receiver.url;
  const relay = testRelay(outbox, everyDestination ? url : onlyPasswords(url), relayOptions);
  try {
    await test(relay);
  } finally {
    await relay.stop();
    await receiver.close();
  }
}

export function addNumbered(
  outbox: Outbox,
  session: ClientSession,
  n: number,
  scope: EffectScope | null = null,
) {
  return outbox.add(session, registered(n), scope);
}

/** A hook that stops the code at `point` as a crash would. */
export const crashAt = (point: FaultPoint) =>
  injectFault(point, () => {
    throw new InjectedCrash(point);
  });

/** A document that carries events, as a subgraph's entity does. */
interface Thing {
  _id: string;
  version: number;
  n: number;
}

/**
 * The relay tests' world on one test MongoDB: a sending outbox (persons), receivers standing in
 * for passwords, and a document that carries events.
 */
export function relayHarness(client: () => MongoClient) {
  const source = (name: string, options: { strandedAfterMs?: number } = {}) =>
    new Outbox(client().db(`${name}_${Date.now()}`), "persons", options);

  async function enqueue(outbox: Outbox, count: number, from = 0): Promise<void> {
    for (let n = from; n < from + count; n++) {
      await runTransaction(outbox.events.db, (session) => addNumbered(outbox, session, n));
    }
  }

  /**
   * A receiving subgraph stand-in (passwords): a real HTTP endpoint applying events through a
   * real Inbox. Every application is recorded, so an event applied twice shows.
   */
  async function consumer(dbName: string, options: ConsumerOptions = {}) {
    const db = client().db(dbName);
    const applied = db.collection<{ eventId: string; n: number; order: number }>("applied");
    let order = 0;
    let deliveries = 0;
    let failures = options.failFirst ?? 0;
    const noop = async () => undefined;
    const inbox = new Inbox(
      "passwords",
      {
        CardIssued: noop,
        CardStatusChanged: noop,
        PersonRegistered: async (event) => {
          if (options.poison?.(event.payload.personId)) throw new Error("cannot apply this one");
          await applied.insertOne({
            eventId: event.id,
            n: Number(event.payload.personId.slice(1)),
            order: order++,
          });
        },
      },
      options.withDb === "three-members" ? asThreeMembers(db) : options.withDb ? db : undefined,
    );
    const apply = (events: HubEvent[]) => inbox.applyBatch(events);
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
        const answered = options.answer
          ? options.answer(events, apply)
          : apply(events).then(({ applied, failed }) => ({ applied, pending: {}, failed }));
        answered.then(
          (body) =>
            isStatusAnswer(body)
              ? response
                  .writeHead(body.status)
                  .end(body.body === undefined ? undefined : JSON.stringify(body.body))
              : response.writeHead(200).end(JSON.stringify(body)),
          () => response.writeHead(500).end(),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      db,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
      applied,
      deliveries: () => deliveries,
      /** How many times each event was applied, by event id. */
      async applications(): Promise<Map<string, number>> {
        const counts = new Map<string, number>();
        for (const { eventId } of await applied.find().toArray())
          counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
        return counts;
      },
      close: () => new Promise((r) => server.close(r)),
    };
  }

  async function carrierOf(outbox: Outbox) {
    const things = outbox.events.db.collection<Thing>("things");
    outbox.carriedIn(things as unknown as Collection<Document>);
    await outbox.ensureIndexes();
    await things.insertOne({ _id: "t1", version: 1, n: 0 });
    const write = (n: number) =>
      changeOneDocument<Thing, Record<string, never>>({
        collection: things,
        outbox,
        effects: null,
        filter: { _id: "t1" },
        key: null,
        notFound: () => new Error("no thing"),
        decide: () => ({ result: {}, set: { n }, events: [registered(n)] }),
      });
    return { things, write };
  }

  return { source, enqueue, consumer, carrierOf };
}
