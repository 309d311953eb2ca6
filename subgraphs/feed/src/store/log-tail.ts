import type { CardEventDocument } from "./card-event-document.js";
import type { LogFilter } from "./card-event-log.js";

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

/** The same test as the log's query (card-event-log.ts `read`), on an entry in memory. */
export function matches(filter: LogFilter, entry: CardEventDocument): boolean {
  if (filter.personId && entry.personId !== filter.personId) return false;
  if (filter.types?.length && !filter.types.includes(entry.type)) return false;
  return true;
}

/** One open subscription as the tail sees it (its stream is commands/tail-log.ts). */
export class TailSubscription {
  /**
   * Every entry numbered up to here was handed to the stream or did not match its filter. The
   * stream moves it as it reads; the tail moves it only while the stream waits (see `notify`).
   */
  position: number;
  /** Reading entries older than the buffer from the database. */
  catchingUp = false;
  /** Set while the stream waits: resolves its wait. */
  wake: (() => void) | null = null;

  constructor(
    readonly filter: LogFilter,
    afterSeq: number,
  ) {
    this.position = afterSeq;
  }
}

/** What the buffer holds after a position, and through which number it is complete. */
export interface Buffered {
  entries: CardEventDocument[];
  through: number;
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
 * buffer of recent entries, and wakes the subscriptions that want one of them. A thousand idle
 * subscribers then cost one query per poll instead of a thousand.
 *
 * The buffer holds exactly the entries numbered in (floor, newest]: entries come in log order, a
 * read asks for everything after `newest`, and an entry is only ever dropped from the front. Since
 * commit order is number order (card-event-log.ts), an entry read means every entry before it is
 * committed too, so nothing numbered below `newest` can appear later. A subscription positioned
 * at or after the floor reads the buffer; one before it (it fell behind, or resumed with an old
 * cursor) reads the database through `newest` first (commands/tail-log.ts), then joins.
 */
export class LogTail {
  private entries: CardEventDocument[] = [];
  private floorSeq = 0;
  private newestSeq = 0;
  /** Not read since nobody listened (or ever): it may be far behind the log. */
  private cold = true;
  private readonly open = new Set<TailSubscription>();
  private readonly waiting = new Set<TailSubscription>();
  /**
   * Open subscriptions by the person they follow, and those following anyone: an entry is only
   * tested against the subscriptions that can want it (a thousand idle subscribers cost a lookup
   * per entry, not a thousand tests).
   */
  private readonly byPerson = new Map<string, Set<TailSubscription>>();
  private readonly anyPerson = new Set<TailSubscription>();
  private reading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private opened = 0;
  private readonly batch: number;
  /** Tells the other replicas of this process's appends (Redis wake-ups, when configured). */
  announce: ((seq: number) => void) | null = null;

  constructor(private readonly options: LogTailOptions) {
    this.batch = options.batch ?? 500;
  }

  /** The newest entry read: every entry up to it is committed, and in the buffer or older. */
  get newest(): number {
    return this.newestSeq;
  }

  /** The buffer holds every entry numbered after this one (through `newest`). */
  get floor(): number {
    return this.floorSeq;
  }

  /** A stream starts reading after `afterSeq`; the first one wakes the tail up. */
  subscribe(filter: LogFilter, afterSeq: number): TailSubscription {
    const subscription = new TailSubscription(filter, afterSeq);
    this.open.add(subscription);
    this.interested(subscription)?.add(subscription);
    this.opened += 1;
    if (this.open.size === 1) {
      // Nobody listened until now: other replicas' appends were not read meanwhile.
      this.cold = true;
      void this.poll();
    }
    return subscription;
  }

  /** The stream ended (idempotent). The last one leaving stops the poll. */
  unsubscribe(subscription: TailSubscription): void {
    this.open.delete(subscription);
    this.waiting.delete(subscription);
    const group = this.interested(subscription);
    group?.delete(subscription);
    if (group?.size === 0 && subscription.filter.personId)
      this.byPerson.delete(subscription.filter.personId);
    subscription.wake = null;
    if (this.open.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /**
   * The entries after `position` that the buffer holds, and the number through which they are
   * complete; null when entries after `position` have left the buffer (read the database).
   */
  since(position: number): Buffered | null {
    if (position < this.floorSeq) return null;
    return { entries: this.entries.slice(this.indexAfter(position)), through: this.newestSeq };
  }

  /**
   * Resolves once the tail has read past `subscription.position` with something for it (or
   * something it must read from the database), or at once when `signal` aborts. Entries for
   * others move its position on without waking it (`notify`).
   */
  wait(subscription: TailSubscription, signal: AbortSignal): Promise<void> {
    if (subscription.position < this.newestSeq || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.waiting.delete(subscription);
        subscription.wake = null;
        resolve();
      };
      subscription.wake = done;
      this.waiting.add(subscription);
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
    if (entry.seq <= this.newestSeq) return;
    if (entry.seq === this.newestSeq + 1) this.take([entry]);
    else if (this.open.size > 0) void this.poll();
  }

  /**
   * Another replica says the log holds entries up to `seq` (a wake-up, at most once): read them
   * now rather than at the next poll, if anyone listens.
   */
  heard(seq: number): void {
    if (!this.stopped && seq > this.newestSeq && this.open.size > 0) void this.poll();
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
    this.reading = this.readNew()
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.reading = null;
        this.schedule();
      });
    return this.reading;
  }

  private async readNew(): Promise<void> {
    do {
      this.again = false;
      if (this.cold) {
        const newest = await this.options.source.newestSeq();
        // Far behind: what it missed would only pass through the buffer. Subscriptions that
        // need it read it from the database (their positions are below the new floor).
        if (newest - this.newestSeq > this.options.capacity) this.reset(newest);
        this.cold = false;
      }
      for (;;) {
        const page = await this.options.source.read(this.newestSeq, {}, this.batch);
        this.take(page);
        if (page.length < this.batch) break;
      }
    } while (this.again && !this.stopped);
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.open.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, this.options.pollMs);
    this.timer.unref();
  }

  /**
   * Adds entries read in log order. A page covers every entry after the newest read when it was
   * asked for; an append may have joined meanwhile, so what is not after `newest` is skipped.
   */
  private take(page: readonly CardEventDocument[]): void {
    const previous = this.newestSeq;
    let added = false;
    for (const entry of page) {
      if (entry.seq <= this.newestSeq) continue;
      this.entries.push(entry);
      this.newestSeq = entry.seq;
      added = true;
    }
    if (!added) return;
    const excess = this.entries.length - this.options.capacity;
    if (excess > 0) {
      this.floorSeq = this.entries[excess - 1]!.seq;
      this.entries.splice(0, excess);
    }
    this.notify(previous);
  }

  private reset(newest: number): void {
    this.entries = [];
    const previous = this.newestSeq;
    this.floorSeq = newest;
    this.newestSeq = newest;
    this.notify(previous);
  }

  /** The set a subscription is indexed in (created for its person on first use). */
  private interested(subscription: TailSubscription): Set<TailSubscription> | undefined {
    const personId = subscription.filter.personId;
    if (!personId) return this.anyPerson;
    let group = this.byPerson.get(personId);
    if (!group && this.open.has(subscription)) {
      group = new Set();
      this.byPerson.set(personId, group);
    }
    return group;
  }

  /**
   * After the tail read on past `previous`: a waiting subscription wakes when the buffer holds an
   * entry for it after its position, or no longer holds everything after its position; otherwise
   * nothing after its position concerns it and its position moves to `newest` (so it neither
   * wakes nor falls behind the buffer for entries of others).
   *
   * Only the entries after `previous` are tested, and only against the subscriptions of their
   * person and those of anyone: a waiting subscription is never behind `previous` with something
   * for it in the buffer (it waits only once it has read up to the newest entry, and each notify
   * either wakes it or moves it to the newest).
   */
  private notify(previous: number): void {
    if (this.waiting.size === 0) return;
    const woken: TailSubscription[] = [];
    for (let i = this.indexAfter(previous); i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      const ofPerson = entry.personId ? this.byPerson.get(entry.personId) : undefined;
      for (const group of [ofPerson, this.anyPerson])
        for (const subscription of group ?? [])
          if (
            subscription.wake &&
            subscription.position < entry.seq &&
            matches(subscription.filter, entry)
          )
            woken.push(subscription);
    }
    for (const subscription of woken) subscription.wake?.();
    for (const subscription of this.waiting) {
      // Ahead of this process (a cursor another replica gave out): nothing for it yet.
      if (subscription.position >= this.newestSeq) continue;
      if (subscription.position < this.floorSeq) subscription.wake?.();
      else subscription.position = this.newestSeq;
    }
  }

  /** The index of the first buffered entry numbered after `position`. */
  private indexAfter(position: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle]!.seq <= position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Figures for /metrics. `reference` is the log's newest entry when the caller read it (lag
   * then includes the tail's own delay), this process's newest otherwise.
   */
  stats(reference: number = this.newestSeq): TailStats {
    let maxLag = 0;
    let catchingUp = 0;
    for (const subscription of this.open) {
      maxLag = Math.max(maxLag, reference - subscription.position);
      if (subscription.catchingUp) catchingUp += 1;
    }
    return {
      open: this.open.size,
      catchingUp,
      maxLag,
      buffered: this.entries.length,
      newest: this.newestSeq,
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
