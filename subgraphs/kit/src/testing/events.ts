import type { EventPayload, EventType, NewEvent } from "../events/catalogue.js";
import type { HubEvent } from "../events/hub-event.js";

/** A NewEvent of the catalogue as tests write one: actor, channel and time filled in. */
export function newEvent<T extends EventType>(type: T, payload: EventPayload<T>): NewEvent<T> {
  return { type, payload, actor: "t", channel: "COUNTER", occurredAt: new Date() } as NewEvent<T>;
}

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
