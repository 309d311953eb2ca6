import type { CardEventDocument } from "./card-event-document.js";

/** What the buffer holds after a position, and through which number it is complete. */
export interface Buffered {
  entries: CardEventDocument[];
  through: number;
}

/**
 * The log tail's bounded buffer of recent entries (LogTail). It holds exactly the entries
 * numbered in (floor, newest]: entries come in log order, a read asks for everything after
 * `newest`, and an entry is only ever dropped from the front. Since commit order is number order
 * (card-event-log.ts), an entry read means every entry before it is committed too, so nothing
 * numbered below `newest` can appear later.
 */
export class TailBuffer {
  private entries: CardEventDocument[] = [];
  private floorSeq = 0;
  private newestSeq = 0;

  /** `capacity`: entries kept (HUB_FEED_BUFFER_ENTRIES). */
  constructor(private readonly capacity: number) {}

  /** The newest entry read: every entry up to it is committed, and in the buffer or older. */
  get newest(): number {
    return this.newestSeq;
  }

  /** The buffer holds every entry numbered after this one (through `newest`). */
  get floor(): number {
    return this.floorSeq;
  }

  /** Entries held. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * The entries after `position` that the buffer holds, and the number through which they are
   * complete; null when entries after `position` have left the buffer (read the database).
   */
  since(position: number): Buffered | null {
    if (position < this.floorSeq) return null;
    return { entries: this.after(position), through: this.newestSeq };
  }

  /** The held entries numbered after `position` (all of them when it is below the floor). */
  after(position: number): CardEventDocument[] {
    return this.entries.slice(this.indexAfter(position));
  }

  /**
   * Adds entries read in log order, dropping the oldest beyond the capacity; answers whether any
   * was added. A page covers every entry after the newest read when it was asked for; an append
   * may have joined meanwhile, so what is not after `newest` is skipped.
   */
  take(page: readonly CardEventDocument[]): boolean {
    let added = false;
    for (const entry of page) {
      if (entry.seq <= this.newestSeq) continue;
      this.entries.push(entry);
      this.newestSeq = entry.seq;
      added = true;
    }
    if (!added) return false;
    const excess = this.entries.length - this.capacity;
    if (excess > 0) {
      this.floorSeq = this.entries[excess - 1]!.seq;
      this.entries.splice(0, excess);
    }
    return true;
  }

  /** Empties the buffer, to hold what comes after `newest` (the tail was far behind the log). */
  reset(newest: number): void {
    this.entries = [];
    this.floorSeq = newest;
    this.newestSeq = newest;
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
}
