import { AsyncResource } from "node:async_hooks";
import type { CardEventDocument } from "./card-event-document.js";
import type { LogFilter } from "./card-event-log.js";
import { TailBuffer, type Buffered } from "./tail-buffer.js";
import { TailSubscribers, TailSubscription } from "./tail-subscribers.js";

// The filter test on an entry in memory: the log's readers (log-entries.ts, log-buckets.ts,
// commands/tail-log.ts) import it from here.
export { matches } from "./tail-subscribers.js";

/** What the tail reads: the log (CardEventLog), or a stand-in in tests. */
export interface TailSource {
  /** Entries after `afterSeq` (and at most `throughSeq`) that match `filter`, in log order. */
  read(
    afterSeq: number,
    filter: LogFilter,
    limit: number,
    throughSeq?: number,
  ): Promise<CardEventDocument[]>;
  /** The newest entry's number: every entry numbered up to it is committed. */
  newestSeq(): Promise<number>;
}

export interface LogTailOptions {
  source: TailSource;
  /** How often the tail looks for other replicas' appends while someone listens. */
  pollMs: number;
  /** Entries kept in memory for the subscriptions to read (HUB_FEED_BUFFER_ENTRIES). */
  capacity: number;
  /** Entries read from the log at once. */
  batch?: number;
  onError?: (error: unknown) => void;
}

export interface TailStats {
  open: number;
  catchingUp: number;
  /** Largest `reference − position` over open subscriptions (0 with none). */
  maxLag: number;
  buffered: number;
  /** The newest entry this process has read. */
  newest: number;
  /** Subscriptions opened since start (a counter). */
  opened: number;
}

/**
 * One reader of the log per feed process, shared by every subscription in it. It reads the
 * entries after the newest one it has seen — woken at once by this process's appends, and by one
 * poll (`pollMs`, only while someone listens) for what other replicas appended — into a bounded
 * buffer of recent entries (TailBuffer), and wakes the subscriptions that want one of them
 * (TailSubscribers). A thousand idle subscribers then cost one query per poll instead of a
 * thousand.
 *
 * The buffer holds exactly the entries numbered in (floor, newest], so nothing numbered below
 * `newest` can appear later (tail-buffer.ts). A subscription positioned at or after the floor
 * reads the buffer; one before it (it fell behind, or resumed with an old cursor) reads the
 * database through `newest` first (commands/tail-log.ts), then joins.
 */
export class LogTail {
  private readonly buffer: TailBuffer;
  /** Not read since nobody listened (or ever): it may be far behind the log. */
  private cold = true;
  private readonly subscribers = new TailSubscribers();
  private reading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private opened = 0;
  private readonly batch: number;
  /** Tells the other replicas of this process's appends (Redis wake-ups, when configured). */
  announce: ((seq: number) => void) | null = null;

  /**
   * The context the tail was made in (the process's start): its polls run there, not in the
   * context of whichever request woke it (the first subscription, a delivery). Otherwise every
   * later poll, each scheduled from the one before, would belong to that request: its trace
   * would grow a database read every poll for as long as the process runs.
   */
  private readonly home = new AsyncResource("LogTail");

  constructor(private readonly options: LogTailOptions) {
    this.batch = options.batch ?? 500;
    this.buffer = new TailBuffer(options.capacity);
  }

  /** The newest entry read: every entry up to it is committed, and in the buffer or older. */
  get newest(): number {
    return this.buffer.newest;
  }

  /** The buffer holds every entry numbered after this one (through `newest`). */
  get floor(): number {
    return this.buffer.floor;
  }

  /** A stream starts reading after `afterSeq`; the first one wakes the tail up. */
  subscribe(filter: LogFilter, afterSeq: number): TailSubscription {
    const subscription = new TailSubscription(filter, afterSeq);
    this.subscribers.add(subscription);
    this.opened += 1;
    if (this.subscribers.open.size === 1) {
      // Nobody listened until now: other replicas' appends were not read meanwhile.
      this.cold = true;
      void this.poll();
    }
    return subscription;
  }

  /** The stream ended (idempotent). The last one leaving stops the poll. */
  unsubscribe(subscription: TailSubscription): void {
    this.subscribers.remove(subscription);
    if (this.subscribers.open.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /**
   * The entries after `position` that the buffer holds, and the number through which they are
   * complete; null when entries after `position` have left the buffer (read the database).
   */
  since(position: number): Buffered | null {
    return this.buffer.since(position);
  }

  /**
   * Resolves once the tail has read past `subscription.position` with something for it (or
   * something it must read from the database), or at once when `signal` aborts. Entries for
   * others move its position on without waking it (`notify`).
   */
  wait(subscription: TailSubscription, signal: AbortSignal): Promise<void> {
    if (subscription.position < this.buffer.newest || signal.aborted) return Promise.resolve();
    const waiting = this.subscribers.waiting;
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        waiting.delete(subscription);
        subscription.wake = null;
        resolve();
      };
      subscription.wake = done;
      waiting.add(subscription);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * This process appended `entry` (committed). The next number after the newest read joins the
   * buffer at once, without a query: everything before it is there already. Anything else (other
   * replicas appended in between) is read from the log.
   */
  appended(entry: CardEventDocument): void {
    if (this.stopped) return;
    this.announce?.(entry.seq);
    if (entry.seq <= this.buffer.newest) return;
    if (entry.seq === this.buffer.newest + 1) this.take([entry]);
    else if (this.subscribers.open.size > 0) void this.poll();
  }

  /**
   * Another replica says the log holds entries up to `seq` (a wake-up, at most once): read them
   * now rather than at the next poll, if anyone listens.
   */
  heard(seq: number): void {
    if (!this.stopped && seq > this.buffer.newest && this.subscribers.open.size > 0)
      void this.poll();
  }

  /**
   * Reads what the log holds after the newest entry read (the poll's work; one read at a time:
   * a call during a read makes it read once more).
   */
  poll(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.home.runInAsyncScope(() =>
      this.readNew()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          this.reading = null;
          this.schedule();
        }),
    );
    return this.reading;
  }

  private async readNew(): Promise<void> {
    do {
      this.again = false;
      if (this.cold) {
        const newest = await this.options.source.newestSeq();
        // Far behind: what it missed would only pass through the buffer. Subscriptions that
        // need it read it from the database (their positions are below the new floor).
        if (newest - this.buffer.newest > this.options.capacity) this.reset(newest);
        this.cold = false;
      }
      for (;;) {
        const page = await this.options.source.read(this.buffer.newest, {}, this.batch);
        this.take(page);
        if (page.length < this.batch) break;
      }
    } while (this.again && !this.stopped);
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.subscribers.open.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, this.options.pollMs);
    this.timer.unref();
  }

  /** Adds entries read in log order (TailBuffer.take) and wakes whom they concern. */
  private take(page: readonly CardEventDocument[]): void {
    const previous = this.buffer.newest;
    if (this.buffer.take(page)) this.notify(previous);
  }

  private reset(newest: number): void {
    const previous = this.buffer.newest;
    this.buffer.reset(newest);
    this.notify(previous);
  }

  /** After the tail read on past `previous`: wakes or moves the waiting subscriptions. */
  private notify(previous: number): void {
    if (this.subscribers.waiting.size === 0) return;
    this.subscribers.notify(this.buffer.after(previous), this.buffer.floor, this.buffer.newest);
  }

  /**
   * Figures for /metrics. `reference` is the log's newest entry when the caller read it (lag
   * then includes the tail's own delay), this process's newest otherwise.
   */
  stats(reference: number = this.buffer.newest): TailStats {
    let maxLag = 0;
    let catchingUp = 0;
    for (const subscription of this.subscribers.open) {
      maxLag = Math.max(maxLag, reference - subscription.position);
      if (subscription.catchingUp) catchingUp += 1;
    }
    return {
      open: this.subscribers.open.size,
      catchingUp,
      maxLag,
      buffered: this.buffer.size,
      newest: this.buffer.newest,
      opened: this.opened,
    };
  }

  /** Stops polling; streams still open wait until they are closed (the server ends them). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
