import type { Db } from "mongodb";
import { POLL } from "../events/command-tags.js";

/** Reads the database server's wall clock (`hello.localTime`); undefined when it has none. */
export type ServerTimeSource = () => Promise<Date | undefined>;

export const helloLocalTime =
  (db: Db): ServerTimeSource =>
  async () => {
    const hello = await db.admin().command({ hello: 1, comment: POLL });
    return hello["localTime"] instanceof Date ? hello["localTime"] : undefined;
  };

/** Readings per calibration; the quickest counts. */
const READINGS = 3;
/** A reading slower than this could be off by half of it: not used. */
const MAX_ROUND_TRIP_MS = 500;

/**
 * Wall-clock time as the database server tells it, for times one process writes and another
 * compares with its own (a backoff's end, when carried events count as stranded): replicas on
 * different machines then agree however far their own clocks drift apart. The offset is measured
 * by `calibrate` (at start and from the relay's poll), halving the round trip; a server that does
 * not tell its time (the embedded one, on this very machine) leaves the local clock as it is.
 */
export class DatabaseClock {
  private offsetMs = 0;
  /** The latest time answered: a new offset never makes the clock run backwards here. */
  private latestMs = -Infinity;

  constructor(
    private readonly serverTime: ServerTimeSource,
    private readonly localNow: () => number = Date.now,
  ) {}

  static of(db: Db): DatabaseClock {
    return new DatabaseClock(helloLocalTime(db));
  }

  /**
   * Measures the offset again from the quickest of a few readings: a reading's error is up to
   * half its round trip, and a slow one (waiting for a connection, an election) says little. No
   * reading quick enough, or none at all, keeps the last offset.
   */
  async calibrate(): Promise<void> {
    let best: { roundTrip: number; offset: number } | null = null;
    for (let reading = 0; reading < READINGS; reading++) {
      const sent = this.localNow();
      const server = await this.serverTime().catch(() => undefined);
      const received = this.localNow();
      if (!server) continue;
      const roundTrip = received - sent;
      if (!best || roundTrip < best.roundTrip)
        best = { roundTrip, offset: server.getTime() - (sent + received) / 2 };
    }
    if (best && best.roundTrip <= MAX_ROUND_TRIP_MS) this.offsetMs = best.offset;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /**
   * Never earlier than an earlier answer of this process (a recalibration or a step of the local
   * clock can lower the estimate): what one process enqueues stays in the order it enqueued it.
   */
  nowMs(): number {
    this.latestMs = Math.max(this.latestMs, this.localNow() + this.offsetMs);
    return this.latestMs;
  }
}
