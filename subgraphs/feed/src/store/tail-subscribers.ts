import type { CardEventDocument } from "./card-event-document.js";
import type { LogFilter } from "./card-event-log.js";

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

/** The subscriptions open on one log tail, those waiting among them, and who wants an entry. */
export class TailSubscribers {
  readonly open = new Set<TailSubscription>();
  readonly waiting = new Set<TailSubscription>();
  /**
   * Open subscriptions by the person they follow, and those following anyone: an entry is only
   * tested against the subscriptions that can want it (a thousand idle subscribers cost a lookup
   * per entry, not a thousand tests).
   */
  private readonly byPerson = new Map<string, Set<TailSubscription>>();
  private readonly anyPerson = new Set<TailSubscription>();

  add(subscription: TailSubscription): void {
    this.open.add(subscription);
    this.interested(subscription)?.add(subscription);
  }

  /** The subscription is closed (idempotent): it is no longer open, waiting or woken. */
  remove(subscription: TailSubscription): void {
    this.open.delete(subscription);
    this.waiting.delete(subscription);
    const group = this.interested(subscription);
    group?.delete(subscription);
    if (group?.size === 0 && subscription.filter.personId)
      this.byPerson.delete(subscription.filter.personId);
    subscription.wake = null;
  }

  /**
   * After the tail read `fresh` (the entries after its previous newest; the buffer now holds
   * (floor, newest]): a waiting subscription wakes when the buffer holds an entry for it after its
   * position, or no longer holds everything after its position; otherwise nothing after its
   * position concerns it and its position moves to `newest` (so it neither wakes nor falls behind
   * the buffer for entries of others).
   *
   * Only the fresh entries are tested, and only against the subscriptions of their person and
   * those of anyone: a waiting subscription is never behind the previous newest with something
   * for it in the buffer (it waits only once it has read up to the newest entry, and each notify
   * either wakes it or moves it to the newest).
   */
  notify(fresh: readonly CardEventDocument[], floor: number, newest: number): void {
    const woken: TailSubscription[] = [];
    for (const entry of fresh) {
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
      if (subscription.position >= newest) continue;
      if (subscription.position < floor) subscription.wake?.();
      else subscription.position = newest;
    }
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
}
