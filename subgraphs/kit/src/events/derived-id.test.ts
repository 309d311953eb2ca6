import { describe, expect, it } from "vitest";
import { newEvent } from "../testing/events.js";
import { useTestMongo } from "../testing/test-mongo.js";
import { derivedEventId } from "./derived-id.js";
import { Outbox } from "./outbox.js";

const client = useTestMongo();

describe("events whose id follows from another's (derivedEventId)", () => {
  it("one source id and purpose always give the same name-based UUID; another source or purpose another", () => {
    const id = derivedEventId("3f1c-source", "ForwardedToFeed");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedEventId("3f1c-source", "ForwardedToFeed")).toBe(id);
    expect(derivedEventId("3f1c-sourcf", "ForwardedToFeed")).not.toBe(id);
    expect(derivedEventId("3f1c-source", "Another")).not.toBe(id);
  });

  it("the outbox keeps an id it is given (every destination's document), and draws one otherwise", () => {
    const outbox = new Outbox(client().db(`derived_${Date.now().toString(36)}`), "persons");
    const given = derivedEventId("e-1", "test");
    const docs = outbox.prepare({ ...newEvent("PersonRegistered", { personId: "p1" }), id: given });
    expect(docs.map((doc) => doc._id).sort()).toEqual([`${given}:cards`, `${given}:passwords`]);
    expect(docs.every((doc) => doc.eventId === given && !("id" in doc))).toBe(true);
    const drawn = outbox.prepare(newEvent("PersonRegistered", { personId: "p1" }));
    expect(drawn[0]!.eventId).not.toBe(given);
  });

  it("events of one write leave in the order written, even within one millisecond (a lane is sent by enqueuedAt, then id)", () => {
    const outbox = new Outbox(client().db(`enqueued_${Date.now().toString(36)}`), "persons");
    const events = Array.from({ length: 50 }, () =>
      newEvent("PersonRegistered", { personId: "p1" }),
    );
    const times = outbox
      .prepareAll(events)
      .filter((doc) => doc.destination === "cards")
      .map((doc) => doc.enqueuedAt);
    for (let i = 1; i < times.length; i++)
      expect(times[i]!.getTime()).toBeGreaterThan(times[i - 1]!.getTime());
  });
});
