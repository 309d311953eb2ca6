import type { CardEventDocument } from "../store/card-event-document.js";
import type { LogFilter } from "../store/card-event-log.js";
import { matches, type LogTail, type TailSource } from "../store/log-tail.js";

export interface TailOptions {
  /**
   * Where entries older than the tail's buffer are read: `readAfterCursor` where the log prunes
   * (CardEventLog), `read` for a log that keeps everything.
   */
  log: Pick<TailSource, "read"> & { readAfterCursor?: TailSource["read"] };
  tail: LogTail;
  filter: LogFilter;
  /** The entries after this number come first, then live ones. */
  afterSeq: number;
  /** Entries read from the database at once while catching up. */
  batch?: number;
}

/**
 * A subscription's stream: the log's entries after a position, then each new one as the
 * process's tail reads it, in log order, without gap or duplicate. Entries still in the tail's
 * buffer are read from it; older ones (a stream that fell behind, or resumed with an old cursor)
 * from the database, through the newest entry the tail has read — everything up to it is committed
 * and either in the buffer or older — after which the stream reads the buffer again. The position
 * only moves past what was handed out or did not match, so the two sources join exactly. Closing
 * it (`return`, as the SSE handler does when its client leaves) ends it at once, even while it
 * waits.
 */
export function tailLog(options: TailOptions): AsyncIterableIterator<CardEventDocument> {
  const closed = new AbortController();
  const subscription = options.tail.subscribe(options.filter, options.afterSeq);
  const entries = follow(options, subscription, closed.signal);
  // A generator returned before its first `next` never runs its `finally`: the tail is left here.
  const close = () => {
    closed.abort();
    options.tail.unsubscribe(subscription);
  };
  return {
    next: () => entries.next(),
    // An async generator waiting inside `await` would only see `return` at its next `yield`,
    // which an idle log may never bring: the abort wakes it first.
    return: (value?: unknown) => {
      close();
      return entries.return(value as undefined);
    },
    throw: (error?: unknown) => {
      close();
      return entries.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* follow(
  { log, tail, filter, batch = 100 }: TailOptions,
  subscription: ReturnType<LogTail["subscribe"]>,
  closed: AbortSignal,
): AsyncGenerator<CardEventDocument, void, undefined> {
  try {
    while (!closed.aborted) {
      const buffered = tail.since(subscription.position);
      if (buffered === null) {
        // Behind the buffer: the database holds every entry through the tail's newest.
        subscription.catchingUp = true;
        const through = tail.newest;
        // CURSOR_EXPIRED ends the stream should the retention prune past its position meanwhile.
        const page = await (log.readAfterCursor
          ? log.readAfterCursor(subscription.position, filter, batch, through)
          : log.read(subscription.position, filter, batch, through));
        for (const entry of page) {
          if (closed.aborted) return;
          subscription.position = entry.seq;
          yield entry;
        }
        // Entries up to `through` the filter skipped count as read: they never match later.
        if (page.length < batch) subscription.position = Math.max(subscription.position, through);
        continue;
      }
      subscription.catchingUp = false;
      for (const entry of buffered.entries) {
        if (closed.aborted) return;
        subscription.position = entry.seq;
        if (matches(filter, entry)) yield entry;
      }
      subscription.position = Math.max(subscription.position, buffered.through);
      await tail.wait(subscription, closed);
    }
  } finally {
    tail.unsubscribe(subscription);
  }
}
