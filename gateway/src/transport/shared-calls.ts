/**
 * Identical calls in flight at the same moment share one: the second caller waits for the first
 * call's answer instead of starting its own. Nothing is kept once the call settles, so this never
 * serves an answer older than the request that asked for it.
 */
export class SharedCalls<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** Calls `start` unless a call with the same key is already in flight, and returns its promise. */
  run(key: string, start: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const call = start();
    this.inFlight.set(key, call);
    const forget = () => {
      this.inFlight.delete(key);
    };
    call.then(forget, forget);
    return call;
  }

  /** Calls in flight now (for tests and diagnostics). */
  get size(): number {
    return this.inFlight.size;
  }
}
