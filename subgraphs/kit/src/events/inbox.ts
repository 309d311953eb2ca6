import type { SubgraphName } from "../settings/subgraph-urls.js";
import {
  isEventType,
  parsePayload,
  typesReceivedBy,
  type EventPayload,
  type EventType,
  type ReceivedBy,
} from "./catalogue.js";
import { EffectScope } from "./effects.js";
import { faultPoint } from "./fault-points.js";
import type { HubEvent } from "./hub-event.js";

/** A received event whose payload the catalogue has checked. */
export type ReceivedEvent<T extends EventType> = Omit<HubEvent, "type" | "payload"> & {
  type: T;
  payload: EventPayload<T>;
};

/**
 * Applies one received event. Handlers converge whatever the order, duplicates or gaps (delivery
 * is at least once, and two replicas or a redelivery may reorder one aggregate's events): each
 * write is one single-document write guarded by the aggregate's version, an upsert or an "only
 * if newer" filter, so the newest version's state wins and applying an event again changes
 * nothing. The events their writes commit go to `effects`, the event's own scope (the relay that
 * sent it waits for them).
 */
export type EventHandler<T extends EventType> = (
  event: ReceivedEvent<T>,
  effects: EffectScope,
) => Promise<void>;

/** A subgraph's handlers: exactly one for each event the catalogue sends it. */
export type EventHandlers<S extends SubgraphName> = {
  [T in ReceivedBy<S>]: EventHandler<T>;
};

/** The event of a batch that failed, and why: the batch stopped there. */
export interface FailedEvent {
  eventId: string;
  error: string;
}

export interface AppliedBatch {
  /** How many events were applied: the batch's first ones, up to the failed one if any. */
  applied: number;
  /** Per event applied now: the deliveries of its own effects, filled once they committed. */
  effects: Map<string, EffectScope>;
  /** The event that failed (nothing after it was tried): the relay retries or dead-letters it. */
  failed: FailedEvent | null;
}

/**
 * The receiving side: a batch is applied in the order it was sent, each event by its handler,
 * until one fails; the answer says which, so the events before it count as delivered and only
 * that one is tried again (and dead-lettered by the relay after its attempts). No per-event
 * record is kept: on the embedded server every write slows as a collection grows, and handlers
 * converge by version instead (docs/events.md).
 */
export class Inbox<S extends SubgraphName = SubgraphName> {
  private readonly handlers: Partial<Record<EventType, EventHandler<EventType>>>;

  constructor(
    readonly subgraph: S,
    handlers: EventHandlers<S>,
  ) {
    this.handlers = handlers as Partial<Record<EventType, EventHandler<EventType>>>;
    const expected = typesReceivedBy(subgraph).sort();
    const given = Object.keys(handlers).sort();
    if (expected.join() !== given.join())
      throw new Error(
        `${subgraph} handles ${given.join(", ")} but the catalogue sends it ${expected.join(", ")}`,
      );
  }

  handles(type: string): boolean {
    return isEventType(type) && type in this.handlers;
  }

  async applyBatch(events: readonly HubEvent[]): Promise<AppliedBatch> {
    const effects = new Map<string, EffectScope>();
    let applied = 0;
    for (const [index, event] of events.entries()) {
      if (index > 0) await faultPoint("between-received-events", { eventId: event.id });
      try {
        const scope = await this.apply(event);
        effects.set(event.id, scope);
        applied += 1;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { applied, effects, failed: { eventId: event.id, error: message } };
      }
    }
    return { applied, effects, failed: null };
  }

  private async apply(event: HubEvent): Promise<EffectScope> {
    const handler = isEventType(event.type) ? this.handlers[event.type] : undefined;
    // Not for this subgraph (a newer producer than this receiver): a failure, so the event waits
    // (and is dead-lettered after its attempts) rather than vanishing.
    if (!handler) throw new Error(`${this.subgraph} does not handle ${event.type} events`);
    const parsed = parsePayload(event.type as EventType, event.payload);
    if (!parsed.ok)
      throw new Error(`${event.type} payload does not fit the catalogue: ${parsed.reason}`);
    const scope = new EffectScope();
    scope.wrote = true;
    await handler({ ...event, type: event.type as EventType, payload: parsed.payload }, scope);
    return scope;
  }
}
