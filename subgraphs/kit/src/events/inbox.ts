import type { Db } from "mongodb";
import { HubError } from "../errors.js";
import { isTransientDatabaseError } from "../mongo/transient-errors.js";
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
import { POLL } from "./command-tags.js";
import { faultPoint } from "./fault-points.js";
import type { HubEvent } from "./hub-event.js";
import { inApplySpan } from "../tracing/events.js";

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
    /** The receiver's database: its answer waits until a majority holds what it saw (below). */
    private readonly db?: Db,
  ) {
    this.handlers = handlers as Partial<Record<EventType, EventHandler<EventType>>>;
    const expected = typesReceivedBy(subgraph).sort();
    const given = Object.keys(handlers).sort();
    if (expected.join() !== given.join())
      throw new Error(
        `${subgraph} handles ${given.join(", ")} but the catalogue sends it ${expected.join(", ")}`,
      );
  }

  /** Its majority marks' collection, created at start-up as every collection is. */
  async ensureIndexes(): Promise<void> {
    await this.db?.collection("inbox_marks").createIndex({ _id: 1 });
  }

  handles(type: string): boolean {
    return isEventType(type) && type in this.handlers;
  }

  /**
   * Applies `events` in order. A failure of the receiver's own database (unreachable, a failover,
   * a write concern not met) is thrown, not charged to the event: the sender retries the whole
   * batch for as long as it lasts, as when the receiver is down, and the event keeps its attempts.
   */
  async applyBatch(events: readonly HubEvent[]): Promise<AppliedBatch> {
    const effects = new Map<string, EffectScope>();
    // A one-member replica set has no other member to fail over to: nothing it holds is rolled
    // back, so there is nothing to wait for (the embedded database, a development set).
    const alone = await this.aloneInItsSet();
    const term = alone ? null : await this.primaryTerm();
    let applied = 0;
    let failed: FailedEvent | null = null;
    for (const [index, event] of events.entries()) {
      if (index > 0) await faultPoint("between-received-events", { eventId: event.id });
      try {
        const scope = await this.apply(event);
        effects.set(event.id, scope);
        applied += 1;
      } catch (error) {
        if (isInfrastructureFailure(error)) throw error;
        const message = error instanceof Error ? error.message : String(error);
        failed = { eventId: event.id, error: message };
        break;
      }
    }
    if (!alone) await this.majorityHolds(applied, term);
    return { applied, effects, failed };
  }

  /**
   * A handler may find an event's write already there and skip it: written by a concurrent
   * duplicate delivery that a majority may not hold yet, and that a failover can roll back after
   * the relay has been told "applied" and deleted the event. A write acknowledged by a majority
   * comes after everything the handlers saw in the replication log, so once it is acknowledged
   * they are all majority-committed too (and if it is rolled back, this throws: the relay keeps
   * the batch and sends it again).
   */
  private async majorityHolds(applied: number, term: string | null): Promise<void> {
    if (!this.db || applied === 0) return;
    await this.db
      .collection<{ _id: string; applied: number }>("inbox_marks")
      .updateOne(
        { _id: this.subgraph },
        { $inc: { applied } },
        { upsert: true, writeConcern: { w: "majority" } },
      );
    // The driver retries a write once on a new primary, which may never have had what the
    // handlers saw on the old one: the mark then proves nothing, and the batch is sent again.
    if ((await this.primaryTerm()) !== term)
      throw new Error("the primary changed while the batch was applied; it is sent again");
  }

  private membership: { alone: boolean; until: number } | null = null;

  /** True when the database is a replica set of one data-bearing member (asked once a minute). */
  private async aloneInItsSet(): Promise<boolean> {
    if (!this.db) return true;
    const now = performance.now();
    if (this.membership && this.membership.until > now) return this.membership.alone;
    const hello = await this.db.admin().command({ hello: 1, comment: POLL });
    const members = ["hosts", "passives", "arbiters"].flatMap((field) =>
      Array.isArray(hello[field]) ? (hello[field] as unknown[]) : [],
    );
    const alone = typeof hello["setName"] === "string" && members.length === 1;
    this.membership = { alone, until: now + 60_000 };
    return alone;
  }

  /** Which primary, in which term, serves writes now (null where the server does not say). */
  private async primaryTerm(): Promise<string | null> {
    if (!this.db) return null;
    const hello = await this.db.admin().command({ hello: 1, comment: POLL });
    const election = hello["electionId"] as { toHexString?: () => string } | undefined;
    return election?.toHexString ? `${String(hello["me"])}/${election.toHexString()}` : null;
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
    await inApplySpan(this.subgraph, event, () =>
      handler({ ...event, type: event.type as EventType, payload: parsed.payload }, scope),
    );
    return scope;
  }
}

/** The receiver's database failed, or it answered "try later": not the event's fault. */
function isInfrastructureFailure(error: unknown): boolean {
  if (error instanceof HubError) return error.extensions.code === "SERVICE_UNAVAILABLE";
  return isTransientDatabaseError(error);
}
