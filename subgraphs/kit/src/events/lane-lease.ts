import type { Collection } from "mongodb";
import { DatabaseClock } from "../mongo/database-clock.js";

/**
 * Who delivers a destination's events now. One lane per destination, shared by every replica of
 * the sending subgraph through the database. Its `epoch` grows with each new owner (a fencing
 * token: every write the owner makes to the lane names it), and `beat` with each renewal.
 */
export interface LaneDocument {
  _id: string;
  owner: string | null;
  epoch: number;
  beat: number;
  /** Failed deliveries in a row, and when the next may be tried (exponential backoff). */
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  /**
   * True when the backoff follows an event its receiver failed to apply: a request waiting does
   * not cut it short (each try counts towards dead-lettering), as it may a transport failure's.
   */
  eventFailed?: boolean;
}

/** A lane held by this relay: valid while `epoch` is the lane's. */
export interface Lease {
  destination: string;
  epoch: number;
  attempts: number;
  /** When the lease was last confirmed in the database (this process's monotonic clock). */
  confirmedAt: number;
}

export const EPOCH = new Date(0);

/**
 * The lanes of one sending subgraph, as one relay instance sees them.
 *
 * Expiry is judged without comparing clocks of different machines: a contender takes a held lane
 * only after it has seen the same `beat` for a whole lease on its own monotonic clock, and the
 * owner sends only within a quarter lease of confirming it still holds the lane (a conditional
 * write naming its epoch). A paused or partitioned owner therefore finds the lane gone before
 * its next delivery; what it had in flight is a duplicate, which receivers absorb (they converge
 * by version).
 */
export class LaneLeases {
  private readonly seen = new Map<string, { epoch: number; beat: number; at: number }>();
  private readonly ensured = new Set<string>();

  constructor(
    readonly lanes: Collection<LaneDocument>,
    private readonly instance: string,
    readonly leaseMs: number,
    private readonly clock: () => number = () => performance.now(),
    /** Backoff ends are written and compared in the database's time (replicas' clocks drift). */
    private readonly wallClock: DatabaseClock = new DatabaseClock(async () => undefined),
  ) {}

  /** Takes the lane if it is free (or its owner stopped renewing it) and not backing off. */
  async claim(destination: string, urgent: boolean): Promise<Lease | "busy" | "backing-off"> {
    await this.ensure(destination);
    const lane = await this.lanes.findOne({ _id: destination });
    if (!lane) return "busy";
    if ((!urgent || lane.eventFailed) && lane.nextAttemptAt.getTime() > this.wallClock.nowMs())
      return "backing-off";
    if (lane.owner !== null && !this.silentForALease(lane)) return "busy";
    // The lease counts from before the write: a contender may start timing it as soon as the
    // write is applied, which can be long before its acknowledgement reaches this process.
    const before = this.clock();
    const taken = await this.lanes.findOneAndUpdate(
      { _id: destination, owner: lane.owner, epoch: lane.epoch, beat: lane.beat },
      { $set: { owner: this.instance, epoch: lane.epoch + 1, beat: 0 } },
      { returnDocument: "after" },
    );
    if (!taken) return "busy";
    this.seen.delete(destination);
    return { destination, epoch: taken.epoch, attempts: taken.attempts, confirmedAt: before };
  }

  /**
   * Confirms the lease before a delivery when a quarter lease has passed since it was last
   * confirmed (`always`: before a write only the owner may make). False when the lane has another
   * owner now: nothing more may be sent or written.
   */
  async confirm(lease: Lease, always = false): Promise<boolean> {
    if (!always && this.clock() - lease.confirmedAt < this.leaseMs / 4) return true;
    const before = this.clock();
    const renewed = await this.lanes.updateOne(this.held(lease), { $inc: { beat: 1 } });
    if (renewed.matchedCount === 0) return false;
    lease.confirmedAt = before;
    return true;
  }

  /**
   * How long a delivery started now may take and still end while the lease is certainly held
   * (no contender takes the lane before a whole lease after the last confirmation); a tenth is
   * kept back for the time between this reading and the request leaving.
   */
  remainingMs(lease: Lease): number {
    return lease.confirmedAt + (this.leaseMs * 9) / 10 - this.clock();
  }

  async release(lease: Lease): Promise<void> {
    await this.lanes.updateOne(this.held(lease), { $set: { owner: null } });
  }

  /** A failed delivery: the lane waits `backoffMs` (whoever owns it then). */
  async backOff(
    lease: Lease,
    failure: { attempts: number; backoffMs: number; error: string; eventFailed: boolean },
  ): Promise<void> {
    await this.lanes.updateOne(this.held(lease), {
      $set: {
        attempts: failure.attempts,
        nextAttemptAt: new Date(this.wallClock.nowMs() + failure.backoffMs),
        lastError: failure.error,
        eventFailed: failure.eventFailed,
      },
    });
  }

  async clearBackoff(lease: Lease): Promise<void> {
    await this.lanes.updateOne(this.held(lease), {
      $set: { attempts: 0, nextAttemptAt: EPOCH, lastError: null, eventFailed: false },
    });
  }

  private held(lease: Lease) {
    return { _id: lease.destination, owner: this.instance, epoch: lease.epoch };
  }

  /** True once the lane's holder has not renewed it for a whole lease, as timed here. */
  private silentForALease(lane: LaneDocument): boolean {
    const seen = this.seen.get(lane._id);
    const now = this.clock();
    if (!seen || seen.epoch !== lane.epoch || seen.beat !== lane.beat) {
      this.seen.set(lane._id, { epoch: lane.epoch, beat: lane.beat, at: now });
      return false;
    }
    return now - seen.at >= this.leaseMs;
  }

  private async ensure(destination: string): Promise<void> {
    if (this.ensured.has(destination)) return;
    await this.lanes.updateOne(
      { _id: destination },
      {
        $setOnInsert: {
          owner: null,
          epoch: 0,
          beat: 0,
          attempts: 0,
          nextAttemptAt: EPOCH,
          lastError: null,
          eventFailed: false,
        },
      },
      { upsert: true },
    );
    // A lane stored by a version without epochs (leaseUntil instead) gets them.
    await this.lanes.updateOne(
      { _id: destination, epoch: { $exists: false } },
      { $set: { owner: null, epoch: 0, beat: 0 } },
    );
    this.ensured.add(destination);
  }
}
