import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { GraphQLError, type ExecutionResult } from "graphql";
import type { AuthContext } from "./auth.plugin.js";

/** setTimeout's longest delay (about 24.8 days): a later expiry is waited for in steps. */
const LONGEST_TIMER_MS = 2_147_483_647;

/** The last result of a stream whose token expired (CONTRACT.md "Who"). */
export function tokenExpiredResult(): ExecutionResult {
  return {
    errors: [
      new GraphQLError(
        "The token has expired; subscribe again with a new token and the last cursor as `after`.",
        { extensions: { code: "UNAUTHENTICATED" } },
      ),
    ],
  };
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** What the schedule needs of a stream: when, and what to do then. */
interface Expiring {
  readonly expiresAt: number;
  /** Its place in the schedule's heap (-1 when not in it). */
  slot: number;
  expire(): void;
}

/**
 * Every stream's expiry on one timer, set for the earliest: a thousand idle subscribers hold a
 * place in a heap each rather than a timer, a promise and their closures each. A stream leaves
 * the heap when it ends (in O(log n)), so nothing of an ended stream is kept until its token's
 * expiry.
 */
class ExpirySchedule {
  private readonly heap: Expiring[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  add(item: Expiring): void {
    item.slot = this.heap.length;
    this.heap.push(item);
    this.up(item.slot);
    this.arm();
  }

  remove(item: Expiring): void {
    const slot = item.slot;
    if (slot < 0) return;
    item.slot = -1;
    const last = this.heap.pop()!;
    if (slot < this.heap.length) {
      this.heap[slot] = last;
      last.slot = slot;
      this.down(slot);
      this.up(last.slot);
    }
    if (this.heap.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
  }

  /** The timer for the earliest expiry (left as it is when it is already that one). */
  private arm(): void {
    const first = this.heap[0];
    if (!first || first.expiresAt >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = first.expiresAt;
    const wait = Math.min(Math.max(0, first.expiresAt - Date.now()), LONGEST_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), wait);
    // Nothing to expire keeps no process alive.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.heap[0] && this.heap[0].expiresAt <= now) {
      const due = this.heap[0];
      this.remove(due);
      due.expire();
    }
    this.arm();
  }

  private up(slot: number): void {
    const heap = this.heap;
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (heap[parent]!.expiresAt <= heap[slot]!.expiresAt) return;
      this.swap(slot, parent);
      slot = parent;
    }
  }

  private down(slot: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * slot + 1;
      const right = left + 1;
      let least = slot;
      if (left < heap.length && heap[left]!.expiresAt < heap[least]!.expiresAt) least = left;
      if (right < heap.length && heap[right]!.expiresAt < heap[least]!.expiresAt) least = right;
      if (least === slot) return;
      this.swap(slot, least);
      slot = least;
    }
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    const item = heap[a]!;
    heap[a] = heap[b]!;
    heap[b] = item;
    heap[a]!.slot = a;
    heap[b]!.slot = b;
  }
}

const schedule = new ExpirySchedule();

/**
 * A stream that ends at its token's expiry (see `untilExpiry`). A class, so an idle stream holds
 * one object, its source and its pending `next`: its methods are shared.
 */
class ExpiringStream<T> implements AsyncIterableIterator<T>, Expiring {
  slot = -1;
  private finished = false;
  /** The pending `next` of the consumer, answered by the source or by the expiry. */
  private waiting: ((step: IteratorResult<T>) => void) | null = null;

  constructor(
    private readonly inner: AsyncIterator<T>,
    readonly expiresAt: number,
    private readonly last: () => T,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /**
   * The source is released (its `return`) at once, without waiting for its pending `next`: an
   * idle stream's next event may be hours away.
   */
  private release(): void {
    this.finished = true;
    schedule.remove(this);
    // Nobody reads the source's answer any more; a late rejection must not go unhandled.
    void Promise.resolve(this.inner.return?.()).catch(() => undefined);
  }

  expire(): void {
    const waiting = this.waiting;
    // Nobody waits: the next `next` finds the expiry passed.
    if (this.finished || !waiting) return;
    this.waiting = null;
    this.release();
    waiting({ done: false, value: this.last() });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.finished) return Promise.resolve(DONE);
    // Past the expiry nothing more is read, even an event that is already there.
    if (Date.now() >= this.expiresAt) {
      this.release();
      return Promise.resolve({ done: false, value: this.last() });
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.waiting = resolve;
      this.inner.next().then(
        (step) => {
          // Answered by the expiry meanwhile (or closed): this step is nobody's.
          if (this.waiting !== resolve) return;
          this.waiting = null;
          if (step.done) {
            this.finished = true;
            schedule.remove(this);
          }
          resolve(step);
        },
        (error: unknown) => {
          if (this.waiting !== resolve) return;
          this.waiting = null;
          reject(error);
        },
      );
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.finished) this.release();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(DONE);
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    if (!this.finished) this.release();
    return Promise.reject(error);
  }
}

/**
 * `source` until `expiresAt` (epoch ms), then `last()` as its final value and the end. The source
 * is released (its `return`) at once, without waiting for its pending `next`: an idle stream's
 * next event may be hours away. The final value is a result, not a thrown error: graphql-ws sends
 * a thrown error's raw message, and a result with errors reaches every client as any other event.
 * Every stream's expiry waits on one shared timer (ExpirySchedule).
 */
export function untilExpiry<T>(
  source: AsyncIterable<T>,
  expiresAt: number,
  last: () => T,
): AsyncIterableIterator<T> {
  const stream = new ExpiringStream(source[Symbol.asyncIterator](), expiresAt, last);
  if (expiresAt > Date.now()) schedule.add(stream);
  return stream;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/**
 * A token is checked when a stream opens; a subscription then outlives it unless something ends
 * it. The gateway ends every stream (GraphQL over SSE and WebSocket alike: both run through here)
 * when its caller's token expires, with UNAUTHENTICATED as its last event; the client resumes with
 * a new token and its last cursor. Here rather than in the feed: the gateway is where every
 * client's stream is, whichever subgraph serves it, and its end closes the upstream stream too.
 */
export function useTokenExpiry(): GatewayPlugin<AuthContext> {
  return {
    onSubscribe({ args }) {
      const expiresAt = (args.contextValue as AuthContext).caller?.expiresAt;
      if (expiresAt === undefined) return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result))
            setResult(untilExpiry(result, expiresAt, tokenExpiredResult));
        },
      };
    },
  };
}
