/**
 * Default of HUB_MAX_STREAMS: twice the 1,000 idle subscribers the feed's bench holds on one
 * gateway, and at the 30 KB each about 60 MB, within the gateway's 192 MB heap.
 */
export const DEFAULT_MAX_STREAMS = 2_000;

/**
 * Long-lived streams open at once (GraphQL over SSE responses and WebSocket connections), apart
 * from the in-flight requests: an idle subscriber holds a connection for hours and costs a little
 * memory, a request holds CPU and memory for milliseconds. Counting one as the other let 128 idle
 * subscribers turn every query away; bounding streams on their own still bounds the gateway's
 * memory (HUB_MAX_STREAMS).
 */
export class OpenStreams {
  private count = 0;

  constructor(readonly max: number) {}

  get open(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.max;
  }

  /** Counts one stream; the function returned uncounts it (once, however often it is called). */
  opened(): () => void {
    this.count += 1;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.count -= 1;
    };
  }
}
