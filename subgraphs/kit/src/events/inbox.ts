import type { ClientSession, Collection, Db } from "mongodb";
import { isDuplicateKeyError } from "../mongo/connect.js";
import { runTransaction } from "../mongo/transactions.js";
import { collectEffects, type EffectScope } from "./effects.js";
import type { HubEvent } from "./hub-event.js";

interface ProcessedEvent {
  _id: string;
  type: string;
  source: string;
  appliedAt: Date;
}

export type EventHandler = (event: HubEvent, session: ClientSession) => Promise<void>;

export interface AppliedBatch {
  /** How many events were applied now (the others had been before, or are not handled here). */
  applied: number;
  /** Per event applied now: the deliveries of its own effects, filled once they committed. */
  effects: Map<string, EffectScope>;
}

/**
 * The receiving side: each event id is applied at most once, in one transaction with its effect,
 * so a redelivered or replayed event changes nothing. A batch is applied in one transaction, in
 * the order it was sent.
 */
export class Inbox {
  readonly processed: Collection<ProcessedEvent>;

  constructor(
    private readonly db: Db,
    private readonly handlers: Record<string, EventHandler>,
  ) {
    this.processed = db.collection<ProcessedEvent>("processed_events");
  }

  handles(type: string): boolean {
    return type in this.handlers;
  }

  async ensureIndexes(): Promise<void> {
    // Retention (kit/src/mongo/retention.ts) removes the oldest records.
    await this.processed.createIndex({ appliedAt: 1 }, { name: "applied_at" });
  }

  /** True when applied now, false when it had been applied before. */
  async apply(event: HubEvent): Promise<boolean> {
    return (await this.applyBatch([event])).applied > 0;
  }

  async applyBatch(events: readonly HubEvent[]): Promise<AppliedBatch> {
    const handled = events.filter((event) => this.handles(event.type));
    if (handled.length === 0) return { applied: 0, effects: new Map() };
    try {
      return await this.applyOnce(handled);
    } catch (error) {
      // A concurrent delivery may have recorded some of these ids first: the second attempt sees
      // them and skips them. A duplicate key raised by a handler's own write fails again and is
      // reported: it is not "already applied", and the event stays pending.
      if (!isDuplicateKeyError(error)) throw error;
      return this.applyOnce(handled);
    }
  }

  private async applyOnce(handled: readonly HubEvent[]): Promise<AppliedBatch> {
    const effects = new Map<string, EffectScope>();
    const applied = await runTransaction(this.db, async (session) => {
      effects.clear();
      const ids = handled.map((event) => event.id);
      const seen = new Set(
        (await this.processed.find({ _id: { $in: ids } }, { session }).toArray()).map(
          (doc) => doc._id,
        ),
      );
      const fresh = handled.filter((event) => !seen.has(event.id));
      if (fresh.length === 0) return 0;
      const appliedAt = new Date();
      await this.processed.insertMany(
        fresh.map((event) => ({
          _id: event.id,
          type: event.type,
          source: event.source,
          appliedAt,
        })),
        { session },
      );
      for (const event of fresh) {
        const handler = this.handlers[event.type];
        if (!handler) continue;
        const { scope } = await collectEffects(() => handler(event, session));
        effects.set(event.id, scope);
      }
      return fresh.length;
    });
    return { applied, effects };
  }
}
