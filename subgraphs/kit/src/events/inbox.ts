import type { ClientSession, Collection, Db } from "mongodb";
import { isDuplicateKeyError } from "../mongo/connect.js";
import { runTransaction } from "../mongo/transactions.js";
import type { HubEvent } from "./hub-event.js";

interface ProcessedEvent {
  _id: string;
  type: string;
  source: string;
  appliedAt: Date;
}

export type EventHandler = (event: HubEvent, session: ClientSession) => Promise<void>;

/**
 * The receiving side: each event id is applied at most once, in one transaction with its effect,
 * so a redelivered or replayed event changes nothing.
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

  /** True when applied now, false when it had been applied before. */
  async apply(event: HubEvent): Promise<boolean> {
    const handler = this.handlers[event.type];
    if (!handler) return false;
    if (await this.processed.findOne({ _id: event.id })) return false;
    try {
      return await runTransaction(this.db, async (session) => {
        // Checked again inside the transaction: a concurrent delivery may have applied it.
        if (await this.processed.findOne({ _id: event.id }, { session })) return false;
        await this.processed.insertOne(
          { _id: event.id, type: event.type, source: event.source, appliedAt: new Date() },
          { session },
        );
        await handler(event, session);
        return true;
      });
    } catch (error) {
      // Another delivery of the same event won the race to record it.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }
}
