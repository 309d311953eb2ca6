import {
  EVENT_CATALOGUE,
  type Clock,
  type EventHandlers,
  type ReceivedBy,
  type ReceivedEvent,
} from "@hub/kit";
import { feedChangeOf, type FeedSource } from "../rules/event-mapping.js";
import type { CardEventLog } from "../store/card-event-log.js";
import type { LogTail } from "../store/log-tail.js";

/**
 * The feed's inbox: every event the catalogue sends it becomes one log entry (or none, where the
 * mapping says it reports no change of its own). A card's own changes come from cards; its bank
 * account's and password's come through cards too (ForwardedToFeed), so that one lane carries
 * every entry of a card in the order cards wrote them (docs/feed.md "Per-card order"). Delivery
 * is at least once: an event delivered again finds its entry and changes nothing. The process's
 * tail of the log takes the entry at once (its subscribers need not wait for the poll).
 */
export function feedEventHandlers(
  log: CardEventLog,
  tail: LogTail,
  clock: Clock,
  /** Told of each new entry (the webhook deliverer looks for work at once). */
  onAppended: () => void = () => undefined,
): EventHandlers<"feed"> {
  /** Logs `source` as the entry of the delivered event `event` (its id, time and channel). */
  const append = async (
    event: Omit<ReceivedEvent<ReceivedBy<"feed">>, "type" | "payload">,
    source: FeedSource,
    producer: string,
  ): Promise<void> => {
    const change = feedChangeOf(source);
    if (!change) return;
    const { stored, added } = await log.append({
      _id: event.id,
      ...change,
      occurredAt: new Date(event.occurredAt),
      channel: event.channel,
      source: producer,
      sourceType: source.type,
      recordedAt: clock(),
    });
    if (added) {
      tail.appended(stored);
      onAppended();
    }
  };
  const record = async <T extends Exclude<ReceivedBy<"feed">, "ForwardedToFeed">>(
    event: ReceivedEvent<T>,
  ): Promise<void> =>
    // Type and payload travel together (the inbox checked the payload against this type); the
    // compiler cannot pair them through the generic, the union FeedSource names the pairs.
    append(event, { type: event.type, payload: event.payload } as FeedSource, event.source);
  return {
    CardIssued: record,
    CardStatusChanged: record,
    CardUpdated: record,
    ElectronicPasswordLocked: record,
    // Logged under its own id (derived from the passed-on event's, so a redelivery of that event
    // finds this entry), as the change its producer made, which is what operators look for.
    ForwardedToFeed: (event) =>
      append(event, event.payload.source, EVENT_CATALOGUE[event.payload.source.type].producer),
  };
}
