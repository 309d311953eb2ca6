import { inDeliverySpan, outsideTraces } from "../tracing/events.js";
import { BatchDelivery } from "./batch-delivery.js";
import type { DeadLetters } from "./dead-letters.js";
import type { LaneLeases } from "./lane-lease.js";
import { answerDelivered, LocalLanes, rejectWaiters, type LocalLane } from "./local-lanes.js";
import type { RelayOptions, RelaySettings } from "./relay-settings.js";

type Outcome = "done" | "failed" | "busy" | "backing-off";

/**
 * Serves the relay's lanes in this process: woken for a destination, it delivers the
 * destination's pending events in order while it holds the lane (LaneLeases), one batch at a
 * time (BatchDelivery), and answers or rejects the requests waiting for them.
 */
export class LaneService {
  readonly lanes = new LocalLanes();
  readonly delivery: BatchDelivery;
  private running = true;

  constructor(
    private readonly options: RelayOptions,
    private readonly settings: RelaySettings,
    private readonly leases: LaneLeases,
    deadLetters: DeadLetters,
  ) {
    this.delivery = new BatchDelivery(
      options,
      settings,
      leases,
      deadLetters,
      this.lanes,
      (lane, ms) => this.retryAfter(lane, ms),
    );
  }

  /** Makes sure the lane is being served; urgent when a request waits for it. */
  wake(destination: string, urgent: boolean): void {
    const lane = this.lanes.of(destination);
    lane.again = true;
    lane.urgent ||= urgent;
    if (lane.serving || !this.running) return;
    lane.serving = outsideTraces(() => this.serve(lane)).finally(() => {
      lane.serving = null;
      if (lane.again && this.running) this.wake(destination, lane.urgent);
    });
  }

  /** Serves no more: no lane is woken again, and each lane's delivery under way is awaited. */
  async stop(): Promise<void> {
    this.running = false;
    for (const lane of this.lanes.all()) if (lane.retry) clearTimeout(lane.retry);
    await Promise.all(this.lanes.all().map((lane) => lane.serving));
  }

  /**
   * Tries a failed lane again when its backoff ends, not at the next poll, which may come much
   * later (the poll is for work other processes left). A little after: the claim compares the
   * backoff's end with its own clock reading.
   */
  private retryAfter(lane: LocalLane, backoffMs: number): void {
    if (lane.retry) clearTimeout(lane.retry);
    lane.retry = setTimeout(() => {
      lane.retry = null;
      this.wake(lane.destination, false);
    }, backoffMs + 20);
    lane.retry.unref();
  }

  /** Delivers a destination's pending events in order while this relay holds its lane. */
  private async drain(destination: string, urgent: boolean): Promise<Outcome> {
    const { batchSize } = this.settings;
    const lease = await this.leases.claim(destination, urgent);
    if (typeof lease === "string") return lease;
    try {
      let failedBefore = lease.attempts > 0;
      // Shrinks to one event when the receiver refuses a batch, grows back as batches pass.
      let limit = batchSize;
      for (;;) {
        const asked = limit;
        const batch = await this.options.outbox.events
          .find({ destination })
          .sort({ enqueuedAt: 1, _id: 1 })
          .limit(asked)
          .toArray();
        if (batch.length === 0) break;
        const sent = await inDeliverySpan(destination, batch, () =>
          this.delivery.send(lease, batch),
        );
        if (sent === "failed") return "failed";
        if (sent === "lost-lane") return "busy";
        if (sent === "refused") {
          limit = 1;
          continue;
        }
        limit = Math.min(batchSize, limit * 2);
        if (failedBefore) {
          await this.leases.clearBackoff(lease);
          failedBefore = false;
        }
        // A short batch delivered whole was all there was: what commits meanwhile wakes the lane.
        if (!this.running || (sent === "accepted" && batch.length < asked)) break;
      }
      return "done";
    } finally {
      await this.leases.release(lease);
    }
  }

  private async serve(lane: LocalLane): Promise<void> {
    const events = this.options.outbox.events;
    while (lane.again && this.running) {
      lane.again = false;
      const urgent = lane.urgent;
      lane.urgent = false;
      let outcome: Outcome;
      try {
        outcome = await this.drain(lane.destination, urgent);
      } catch (error) {
        this.options.logger.warn(
          { err: error, destination: lane.destination },
          "outbox relay failed",
        );
        outcome = "failed";
      }
      // A wait registered for an event that was delivered meanwhile (a replay following its
      // first call's events) is answered once the lane is found empty of it.
      if (outcome === "done" && lane.waiters.size > 0)
        await answerDelivered(lane, events).catch(() => undefined);
      // Held back by an event its receiver failed to apply: a waiting request learns now that
      // its effect is pending (its wait would not cut the backoff short).
      if (outcome === "backing-off" && urgent && lane.waiters.size > 0)
        rejectWaiters(lane, "an earlier event for this receiver is waiting to be retried");
      if (outcome === "busy" && lane.waiters.size > 0) {
        await answerDelivered(lane, events).catch(() => undefined);
        if (lane.waiters.size > 0) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          lane.again = true;
          lane.urgent = true;
        }
      }
    }
  }
}
