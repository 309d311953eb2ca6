import { randomUUID } from "node:crypto";
import type { DatabaseClock } from "../mongo/database-clock.js";
import type { SubgraphName } from "../settings/subgraph-urls.js";
import { eventTraceContext } from "../tracing/events.js";
import { EVENT_CATALOGUE, receiversOf, type NewEvent } from "./catalogue.js";
import type { CarriedEvents, OutboxDocument } from "./outbox-document.js";

/**
 * The outbox documents of one event, one per receiver the catalogue names (to `add`, or to
 * carry in a document), enqueued at the database's time (`clock`) but after `floor` (ms): the
 * last stamp of the document the event is about (`floorOf`), or of the event before it in one
 * write.
 */
export function prepareEvent(
  source: SubgraphName,
  clock: DatabaseClock,
  event: NewEvent,
  floor = 0,
): OutboxDocument[] {
  if (EVENT_CATALOGUE[event.type].producer !== source)
    throw new Error(`${event.type} is not produced by ${source} (events/catalogue.ts)`);
  const { id, ...decided } = event;
  const eventId = id ?? randomUUID();
  const enqueuedAt = new Date(Math.max(clock.nowMs(), floor + 1));
  const traced = eventTraceContext();
  return receiversOf(event.type).map((destination) => ({
    _id: `${eventId}:${destination}`,
    eventId,
    destination,
    ...decided,
    payload: event.payload as Record<string, unknown>,
    source,
    enqueuedAt,
    attempts: 0,
    lastError: null,
    ...traced,
  }));
}

/**
 * The events of one write, in order: each enqueued after `floor` and after the one before it
 * (a lane is sent by `enqueuedAt`, then by id, so two stamped in one millisecond would leave
 * in any order). Stamps run ahead of the clock only by the events of one write.
 */
export function prepareEvents(
  source: SubgraphName,
  clock: DatabaseClock,
  events: readonly NewEvent[],
  floor = 0,
): OutboxDocument[] {
  const docs: OutboxDocument[] = [];
  let last = floor;
  for (const event of events) {
    const prepared = prepareEvent(source, clock, event, last);
    last = prepared[0]?.enqueuedAt.getTime() ?? last;
    docs.push(...prepared);
  }
  return docs;
}

/**
 * The stamp a new event about `doc` must follow (ms): the last its writes recorded, or the
 * latest of the events it still carries (documents written before `enqueuedThrough` was).
 */
export function floorOf(doc: CarriedEvents): number {
  return Math.max(
    doc.enqueuedThrough ? new Date(doc.enqueuedThrough).getTime() : 0,
    ...(doc.outgoing ?? []).map((event) => new Date(event.enqueuedAt).getTime()),
  );
}

/** The `enqueuedThrough` of `doc` once `events` (prepared after its floor) are written. */
export function stampedThrough(doc: CarriedEvents, events: readonly OutboxDocument[]): Date | null {
  const through = Math.max(floorOf(doc), ...events.map((event) => event.enqueuedAt.getTime()));
  return through > 0 ? new Date(through) : null;
}

/**
 * The fields a single-document write sets to carry `events` besides those its document already
 * carries (a writer that stopped before releasing them), and the document's last stamp: one
 * `$set` with the change, so the next writer of the document stamps after these.
 */
export function carriedFields(
  clock: DatabaseClock,
  current: CarriedEvents,
  events: readonly OutboxDocument[],
): Required<CarriedEvents> {
  const outgoing = [...(current.outgoing ?? []), ...events];
  return {
    outgoing,
    outgoingSince: outgoing.length > 0 ? (current.outgoingSince ?? clock.now()) : null,
    enqueuedThrough: stampedThrough(current, events),
  };
}
