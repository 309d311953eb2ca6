import { EffectScope } from "./effects.js";
import type { HubEvent } from "./hub-event.js";

/**
 * Applies one received event. Handlers are idempotent (an event may come more than once: delivery
 * is at least once): they write with version guards, upserts or "only if newer" checks, each
 * write a single-document one, without a multi-document transaction. The events their writes
 * commit go to `effects`, the event's own scope (the relay that sent it waits for them).
 */
export type EventHandler = (event: HubEvent, effects: EffectScope) => Promise<void>;

export interface AppliedBatch {
  /** How many events were handled here (the others are not for this subgraph). */
  applied: number;
  /** Per event applied now: the deliveries of its own effects, filled once they committed. */
  effects: Map<string, EffectScope>;
}

/**
 * The receiving side: a batch is applied in the order it was sent, each event by its idempotent
 * handler, so a redelivered or replayed event changes nothing. No per-event record is kept (on the
 * embedded server every write slows as a collection grows; an inbox record per event would make
 * every later delivery slower).
 */
export class Inbox {
  constructor(private readonly handlers: Record<string, EventHandler>) {}

  handles(type: string): boolean {
    return type in this.handlers;
  }

  /** True when the event is handled here (applying it again changes nothing). */
  async apply(event: HubEvent): Promise<boolean> {
    return (await this.applyBatch([event])).applied > 0;
  }

  async applyBatch(events: readonly HubEvent[]): Promise<AppliedBatch> {
    const effects = new Map<string, EffectScope>();
    let applied = 0;
    for (const event of events) {
      const handler = this.handlers[event.type];
      if (!handler) continue;
      const scope = new EffectScope();
      scope.wrote = true;
      await handler(event, scope);
      effects.set(event.id, scope);
      applied += 1;
    }
    return { applied, effects };
  }
}
