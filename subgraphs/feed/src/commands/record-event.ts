import type { Clock, EventHandlers, ReceivedBy, ReceivedEvent } from "@hub/kit";
import { feedChangeOf, type FeedSource } from "../rules/event-mapping.js";
import type { CardEventLog } from "../store/card-event-log.js";
import type { LogTail } from "../store/log-tail.js";

/**
 * The feed's inbox: every card, password and bank-account event the catalogue sends it becomes
 * one log entry (or none, where the mapping says it reports no change of its own). Delivery is at
 * least once: an event delivered again finds its entry and changes nothing. The process's tail of
 * the log takes the entry at once (its subscribers need not wait for the poll).
 */
export function feedEventHandlers(
  log: CardEventLog,
  tail: LogTail,
  clock: Clock,
  /** Told of each new entry (the webhook deliverer looks for work at once). */
  onAppended: () => void = () => undefined,
): EventHandlers<"feed"> {
  const record = async <T extends ReceivedBy<"feed">>(event: ReceivedEvent<T>): Promise<void> => {
    // Type and payload travel together (the inbox checked the payload against this type); the
    // compiler cannot pair them through the generic, the union FeedSource names the pairs.
    const change = feedChangeOf({ type: event.type, payload: event.payload } as FeedSource);
    if (!change) return;
    const { stored, added } = await log.append({
      _id: event.id,
      ...change,
      occurredAt: new Date(event.occurredAt),
      channel: event.channel,
      source: event.source,
      sourceType: event.type,
      recordedAt: clock(),
    });
    if (added) {
      tail.appended(stored);
      onAppended();
    }
  };
  return {
    CardIssued: record,
    CardStatusChanged: record,
    CardUpdated: record,
    BankAccountStatusChanged: record,
    FinancialFunctionActivated: record,
    ElectronicPasswordLocked: record,
    CardPasswordStateChanged: record,
  };
}
