import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createLogger,
  injectFault,
  parseEventBatch,
  startOutboxRelay,
  type HubEvent,
} from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  at,
  caller,
  freshPersons,
  keyFor,
  personInput,
  registrationStoppedAfterClaim,
} from "../testing/registration-fixtures.js";

const client = useTestMongo();
/** Short, so the tests wait past it rather than the production 5 s. */
const STRANDED_MS = 300;
let unhook: () => void = () => undefined;
afterEach(() => unhook());

const sweptPersons = () =>
  freshPersons(client(), "persons_sweep", { strandedAfterMs: STRANDED_MS });

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process stops between the lookup document and the person, as a crash would. */
async function registrationStoppedAfterLookup() {
  const parts = await sweptPersons();
  const { person, key, claim: lookup } = await registrationStoppedAfterClaim(parts, "k-stopped");
  const eventIds = lookup.pending!.outgoing.map((event) => event._id).sort();
  return { ...parts, person, key, personId: lookup.personId, eventIds };
}

describe("registrations left without their person: the outbox's sweep completes them", () => {
  it("a lookup whose person an earlier version's unique index refuses is pointed at the person holding the number, once", async () => {
    const { persons, outbox, person, personId } = await registrationStoppedAfterLookup();
    // A database of an earlier version: the number's person has no lookup of its own, and the
    // old unique index refuses a second person with it.
    await persons.persons.createIndex({ idNumber: 1 }, { name: "idNumber_unique", unique: true });
    await persons.persons.insertOne({
      _id: "legacy-holder",
      idNumber: person.idNumber,
      name: person.name,
      phone: null,
      createdAt: at,
      version: 1,
    });
    await pause(STRANDED_MS + 50);
    expect((await outbox.runSweeps()).get("registrations")).toBe(1);
    expect(await persons.byIdNumber.findOne({ _id: person.idNumber })).toMatchObject({
      personId: "legacy-holder",
      pending: null,
    });
    expect(await persons.persons.countDocuments({ _id: personId })).toBe(0);
    expect((await outbox.runSweeps()).get("registrations")).toBe(0);
  });

  it("a registration stopped after its identity number's document is completed by the sweep: the person stored and readable, PersonRegistered released once, a later registration answers that person", async () => {
    const { persons, registration, outbox, person, key, personId, eventIds } =
      await registrationStoppedAfterLookup();
    expect(await persons.persons.countDocuments({ _id: personId })).toBe(0);
    expect(await outbox.events.countDocuments({})).toBe(0);
    // Too young: its writer may only be slow.
    expect((await outbox.runSweeps()).get("registrations")).toBe(0);
    expect(await persons.persons.countDocuments({ _id: personId })).toBe(0);

    await pause(STRANDED_MS + 50);
    expect((await outbox.runSweeps()).get("registrations")).toBe(1);
    expect(await persons.persons.findOne({ _id: personId })).toMatchObject({
      idNumber: person.idNumber,
      outgoing: [],
      outgoingSince: null,
    });
    expect(await persons.findByIdNumbers([person.idNumber])).toEqual([
      { id: personId, idNumber: person.idNumber, name: person.name, phone: null },
    ]);
    // The event the stopped writer prepared, once per receiver.
    const events = await outbox.events.find({}).toArray();
    expect(events.map((event) => event._id).sort()).toEqual(eventIds);
    expect(events.map((event) => event.destination).sort()).toEqual(["cards", "passwords"]);
    expect((await persons.byIdNumber.findOne({ _id: person.idNumber }))!.pending).toBeNull();

    // Swept again: nothing left, nothing released twice.
    expect((await outbox.runSweeps()).get("registrations")).toBe(0);
    expect(await outbox.events.countDocuments({})).toBe(2);
    // The stopped request's replay answers the person; another registration is refused.
    expect(await registration.register(person, at, caller, key, null)).toBe(personId);
    await expect(registration.register(person, at, caller, null, null)).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(await persons.persons.countDocuments({ idNumber: person.idNumber })).toBe(1);
    expect(await outbox.events.countDocuments({})).toBe(2);
  });

  it("a writer paused after its lookup while the sweep completes it: both answer one person and the event is stored once", async () => {
    const { persons, registration, outbox } = await sweptPersons();
    const person = personInput();
    let resume: () => void = () => undefined;
    let paused: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (paused = resolve));
    unhook = injectFault("after-id-number-claim", async () => {
      paused();
      await new Promise<void>((resolve) => (resume = resolve));
    });
    const writer = registration.register(person, at, caller, keyFor("k-slow", person), null);
    await reached;
    try {
      await pause(STRANDED_MS + 50);
      expect((await outbox.runSweeps()).get("registrations")).toBe(1);
    } finally {
      // Even when the sweep failed: a writer left paused would hold the test to its timeout.
      resume();
    }
    const personId = await writer;
    expect(await persons.persons.countDocuments({ idNumber: person.idNumber })).toBe(1);
    expect((await persons.findByIdNumbers([person.idNumber]))[0]?.id).toBe(personId);
    expect(await outbox.events.countDocuments({ "payload.personId": personId })).toBe(2);
  });

  it("the relay's poll runs the sweep and delivers PersonRegistered, with no later registration of the number", async () => {
    const { persons, outbox, personId, eventIds } = await registrationStoppedAfterLookup();
    const received: { destination: string; event: HubEvent }[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const destination = new URL(request.url ?? "/", "http://x").searchParams.get("to") ?? "";
        const events = parseEventBatch(Buffer.concat(chunks).toString()) ?? [];
        for (const event of events) received.push({ destination, event });
        const answer = { applied: events.length, pending: {}, failed: null };
        response.writeHead(200).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    const relay = startOutboxRelay({
      outbox,
      target: (destination) => `http://127.0.0.1:${port}/events?to=${destination}`,
      serviceToken: async () => "t",
      logger: createLogger("registration-sweep-test", "silent"),
      pollMs: 20,
    });
    try {
      // Nothing is in the outbox before the sweep: wait for the deliveries, then their removal.
      await expect.poll(() => received.length, { timeout: STRANDED_MS + 15_000 }).toBe(2);
      await expect.poll(() => outbox.events.countDocuments({})).toBe(0);
      expect(received.map((r) => r.destination).sort()).toEqual(["cards", "passwords"]);
      expect(new Set(received.map((r) => r.event.id))).toEqual(
        new Set(eventIds.map((id) => id.split(":")[0])),
      );
      expect(received[0]!.event).toMatchObject({ type: "PersonRegistered", payload: { personId } });
      expect(await persons.persons.countDocuments({ _id: personId })).toBe(1);
    } finally {
      await relay.stop();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 30_000);
});
