import type { EventPayload, EventType, NewEvent } from "../events/catalogue.js";
import type { HubEvent } from "../events/hub-event.js";
import type { OutboxDocument } from "../events/outbox-document.js";

/** A NewEvent of the catalogue as tests write one: actor, channel and time filled in. */
export function newEvent<T extends EventType>(type: T, payload: EventPayload<T>): NewEvent<T> {
  return { type, payload, actor: "t", channel: "COUNTER", occurredAt: new Date() } as NewEvent<T>;
}

/** PersonRegistered n (person `p<n>`): the catalogue sends it to cards and passwords. */
export const registered = (n: number) => newEvent("PersonRegistered", { personId: `p${n}` });

/** A delivered event as a receiver gets it. */
export function receivedEvent<T extends EventType>(
  id: string,
  type: T,
  payload: EventPayload<T>,
  source = "test",
): HubEvent {
  return {
    id,
    type,
    payload: payload as Record<string, unknown>,
    actor: "t",
    channel: "COUNTER",
    occurredAt: new Date().toISOString(),
    source,
  };
}

/** Event `eventId` (PersonRegistered p1) stored in the outbox for `destination`, failed before. */
export function outboxDocument(
  eventId: string,
  destination = "cards",
  extra: Partial<OutboxDocument> = {},
): OutboxDocument {
  return {
    _id: `${eventId}:${destination}`,
    eventId,
    destination,
    type: "PersonRegistered",
    payload: { personId: "p1" },
    actor: "t",
    channel: "COUNTER",
    source: "persons",
    occurredAt: new Date("2026-11-25T08:00:00Z"),
    enqueuedAt: new Date("2026-11-25T08:00:01Z"),
    attempts: 3,
    lastError: "HTTP 500",
    ...extra,
  };
}
