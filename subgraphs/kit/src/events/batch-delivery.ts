import { beside } from "../mongo/transactions.js";
import { withTraceHeaders } from "../tracing/events.js";
import type { DeadLetters } from "./dead-letters.js";
import { EFFECT_BUDGET_HEADER, readAnswer, type EventBatchAnswer } from "./event-batch.js";
import { faultPoint } from "./fault-points.js";
import type { LaneLeases, Lease } from "./lane-lease.js";
import {
  answerWaiters,
  rejectWaiters,
  rejectWaitersOf,
  type LocalLane,
  type LocalLanes,
} from "./local-lanes.js";
import { toHubEvent, type OutboxDocument } from "./outbox-document.js";
import { backoffFor, type RelayOptions, type RelaySettings } from "./relay-settings.js";

/** What one delivery of a batch came to. */
export type Sent = "accepted" | "partly" | "refused" | "moved-on" | "failed" | "lost-lane";

/** A 400 that is the receiving inbox's own answer (`BAD_USER_INPUT`: not a batch it can read). */
async function refusedByInbox(response: Response): Promise<boolean> {
  const body = (await response.json().catch(() => null)) as {
    errors?: { extensions?: { code?: unknown } }[];
  } | null;
  return body?.errors?.[0]?.extensions?.code === "BAD_USER_INPUT";
}

/**
 * The events of `docs` as JSON, up to the first that cannot be serialised (`unsendable`: why);
 * `batch` holds the documents sent.
 */
function serialise(docs: OutboxDocument[]): {
  batch: OutboxDocument[];
  bodies: string[];
  unsendable: string | null;
} {
  const bodies: string[] = [];
  for (const doc of docs) {
    try {
      bodies.push(JSON.stringify(toHubEvent(doc)));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { batch: docs.slice(0, bodies.length), bodies, unsendable: `not an event: ${reason}` };
    }
  }
  return { batch: docs, bodies, unsendable: null };
}

/**
 * Sends batches of a lane's events to their receiver in one HTTP call each, and settles what the
 * answer says: deletes the applied events and answers those waiting for them; counts a failed
 * event's attempts and dead-letters it after `maxAttempts`; backs the lane off after a failure.
 */
export class BatchDelivery {
  /** Events delivered by this relay (RelayStats). */
  delivered = 0;
  /** Failed deliveries (RelayStats). */
  failedAttempts = 0;

  constructor(
    private readonly options: RelayOptions,
    private readonly settings: RelaySettings,
    private readonly leases: LaneLeases,
    private readonly deadLetters: DeadLetters,
    private readonly lanes: LocalLanes,
    /** Tries a lane again when its backoff ends. */
    private readonly retryAfter: (lane: LocalLane, backoffMs: number) => void,
  ) {}

  /** One delivery of `whole` (or of the part of it that can be sent) while holding `lease`. */
  async send(lease: Lease, whole: OutboxDocument[]): Promise<Sent> {
    const { destination } = lease;
    const events = this.options.outbox.events;
    const url = this.options.target(destination);
    // A document that cannot be sent (its stored fields do not make an event) is that event's
    // failure, not the receiver's: it is tried, then dead-lettered, and the lane moves on.
    const { batch, bodies, unsendable } = serialise(whole);
    if (batch.length === 0) return this.eventFailed(lease, whole[0]!, unsendable!);
    let accepted: OutboxDocument[];
    let failed: EventBatchAnswer["failed"];
    let pending: EventBatchAnswer["pending"];
    try {
      if (!url) throw new Error(`no address known for ${destination}`);
      // Before the lease is confirmed: nothing that may take long lies between it and the send.
      const token = await this.options.serviceToken();
      await faultPoint("before-delivery", { destination, epoch: lease.epoch });
      if (!(await this.leases.confirm(lease))) return "lost-lane";
      // The answer must come while the lease is certainly held; a later one is given up (the
      // events stay, and are sent again: receivers absorb the duplicate).
      let timeoutMs = Math.min(this.settings.deliveryTimeoutMs, this.leases.remainingMs(lease));
      const response = await fetch(url, {
        method: "POST",
        headers: withTraceHeaders({
          "content-type": "application/json",
          authorization: `Bearer ${token}`,
          [EFFECT_BUDGET_HEADER]: String(this.settings.downstreamBudgetMs),
        }),
        body: `{"events":[${bodies.join(",")}]}`,
        signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
      });
      // The receiver refuses the batch itself (too large, or not a batch it can read): sent one
      // event at a time, the one it still refuses is that event's failure. Only the receiver's
      // own refusal counts so: a proxy's 400 says nothing about the events (the lane waits).
      if (
        response.status === 413 ||
        (response.status === 400 && (await refusedByInbox(response)))
      ) {
        if (batch.length > 1) return "refused";
        return this.eventFailed(
          lease,
          batch[0]!,
          `refused by ${destination}: HTTP ${response.status}`,
        );
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      ({ accepted, failed, pending } = readAnswer(batch, await response.json()));
      await faultPoint("after-delivery", { destination, epoch: lease.epoch });
      if (accepted.length > 0) {
        // One retryable single-document delete each (a multi-document delete is not retried by
        // the driver after a failover). Beside the transactions that add events (on the embedded
        // server a commit could undo it).
        await beside(events.db, () =>
          events.bulkWrite(
            accepted.map((doc) => ({ deleteOne: { filter: { _id: doc._id } } })),
            { ordered: false },
          ),
        );
      }
    } catch (error) {
      // The receiver is down, slow, refusing or answering nonsense, or the delete failed: no event
      // is at fault, the lane waits and retries (what was applied comes again as a duplicate).
      const message = error instanceof Error ? error.message : String(error);
      await this.laneFailed(lease, { count: batch.length, attempts: lease.attempts + 1, message });
      return "failed";
    }
    if (accepted.length > 0) {
      this.delivered += accepted.length;
      this.options.metrics?.delivered(destination, accepted.length);
      answerWaiters(this.lanes.of(destination), accepted, pending);
    }
    if (failed) return this.eventFailed(lease, batch[accepted.length]!, failed.error);
    // A receiver that applied fewer than it was sent (and named no failure) is sent the rest; a
    // batch cut short before a document that cannot be sent goes on to that document now (it is
    // that event's failure), rather than at the next poll.
    return accepted.length === batch.length && !unsendable ? "accepted" : "partly";
  }

  /** The receiver could not apply `doc`: tried again after a backoff, or set aside. */
  private async eventFailed(lease: Lease, doc: OutboxDocument, error: string): Promise<Sent> {
    const events = this.options.outbox.events;
    // Only the lane's owner counts attempts or buries: a stale one (paused since it sent) may
    // hold an answer its successor has already made obsolete.
    if (!(await this.leases.confirm(lease, true))) return "lost-lane";
    const attempts = doc.attempts + 1;
    // Counted only if nobody has counted or delivered it since it was read (a stale owner paused
    // between the confirmation above and this write finds it changed or gone).
    const counted = await beside(events.db, () =>
      events.updateOne(
        { _id: doc._id, attempts: doc.attempts },
        { $set: { attempts, lastError: error } },
      ),
    );
    if (counted.matchedCount === 0) return "lost-lane";
    if (attempts >= this.settings.maxAttempts) {
      await this.deadLetters.bury({ ...doc, attempts }, error);
      this.options.metrics?.deadLettered(lease.destination);
      this.options.logger.error(
        { destination: lease.destination, eventId: doc.eventId, type: doc.type, attempts, error },
        "event dead-lettered: its receiver failed to apply it; the lane moves on",
      );
      rejectWaitersOf(this.lanes.of(lease.destination), doc._id, error);
      return "moved-on";
    }
    await this.laneFailed(lease, {
      count: 1,
      attempts,
      message: `${doc.type} ${doc.eventId}: ${error}`,
      eventFailed: true,
    });
    return "failed";
  }

  private async laneFailed(
    lease: Lease,
    failure: { count: number; attempts: number; message: string; eventFailed?: boolean },
  ) {
    const { count, attempts, message } = failure;
    this.failedAttempts += 1;
    this.options.metrics?.failed(lease.destination);
    const backoff = backoffFor(attempts, this.settings.maxBackoffMs);
    this.options.logger.warn(
      {
        destination: lease.destination,
        events: count,
        attempts,
        retryInMs: backoff,
        error: message,
      },
      "event delivery failed; will retry",
    );
    await this.leases.backOff(lease, {
      attempts,
      backoffMs: backoff,
      error: message,
      eventFailed: failure.eventFailed ?? false,
    });
    rejectWaiters(this.lanes.of(lease.destination), message);
    this.retryAfter(this.lanes.of(lease.destination), backoff);
  }
}
