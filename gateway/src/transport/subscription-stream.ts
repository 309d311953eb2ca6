import type stockHttpTransport from "@graphql-mesh/transport-http";
import { sseExecutor } from "./sse-upstream.js";
import type { UnifiedGraphHandler } from "@graphql-hive/gateway-runtime";
import type { ExecutionRequest, Executor } from "@graphql-tools/utils";
import { GraphQLError, type ExecutionResult } from "graphql";

/** What Hive Gateway hands a transport for a subgraph (the stock HTTP transport's payload). */
export type SubgraphPayload = Parameters<typeof stockHttpTransport.getSubgraphExecutor>[0];

/**
 * Where a subgraph streams its subscriptions, from its transport entry's `subscriptions.location`
 * (relative to its /graphql); null when it serves none.
 */
export function subscriptionLocation(payload: SubgraphPayload): string | null {
  const entry = payload.transportEntry;
  const subscriptions = entry.options?.subscriptions;
  if (!subscriptions || !entry.location) return null;
  return new URL(subscriptions.location ?? entry.location, entry.location).toString();
}

/**
 * The extension that marks the error of a cut stream on its way from the transport to
 * `eventsApart`. The error masker lets only named extensions out (error-masking.ts), so clients
 * never see it.
 */
const STREAM_CUT = "hubStreamCut";

/**
 * The last message of a stream whose upstream connection was cut (the subgraph process serving it
 * died, or the gateway is stopping): SERVICE_UNAVAILABLE, the code docs/feed.md tells clients to
 * resume on.
 */
export function streamCutError(): GraphQLError {
  return new GraphQLError(
    "The stream was cut: the process serving it stopped. Subscribe again with `after` = the last cursor received.",
    { extensions: { code: "SERVICE_UNAVAILABLE", [STREAM_CUT]: true } },
  );
}

function isStreamCut(error: unknown): boolean {
  const extensions = (error as { extensions?: Record<string, unknown> } | null)?.extensions;
  return extensions?.[STREAM_CUT] === true;
}

/**
 * The result the stream executor gives when an event stream's connection fails (sse-upstream.ts
 * shapes it as Hive's HTTP executor does): no data, and an error made from the failure itself
 * (`originalError`, no code). Events that came over the wire are parsed JSON: their errors never
 * carry an `originalError`.
 */
function isConnectionFailure(result: ExecutionResult): boolean {
  return (
    result.data == null &&
    (result.errors ?? []).some(
      (error) => error.originalError instanceof Error && error.extensions?.["code"] === undefined,
    )
  );
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * `source` with each value passed through `map`; a value mapped as `last` ends the stream after it
 * (and releases the source). `return` reaches the source at once, even while a `next` is pending
 * (an idle subscription's next event may be hours away): that is what aborts the upstream request
 * when the client leaves. An async generator would wait for the pending `next`.
 */
function mapStream<T>(
  source: AsyncIterable<T>,
  map: (value: T) => { value: T; last?: boolean },
): AsyncIterableIterator<T> {
  const inner = source[Symbol.asyncIterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let finished = false;
  const release = () => {
    finished = true;
    // Nobody reads the source's answer any more; a late rejection must not go unhandled.
    void Promise.resolve(inner.return?.()).catch(() => undefined);
  };
  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      if (finished) return done;
      const step = await inner.next();
      if (step.done) {
        finished = true;
        return step;
      }
      const { value, last } = map(step.value);
      if (last) release();
      return { done: false, value };
    },
    async return() {
      if (!finished) release();
      return done;
    },
    async throw(error: unknown) {
      if (!finished) release();
      throw error;
    },
  };
  return iterator;
}

/**
 * Subscription operations of one subgraph, streamed over GraphQL over SSE by `sseExecutor`
 * (sse-upstream.ts: undici, in place of Hive's HTTP executor, which held ~30 KB of heap per idle
 * stream); the hub's query transport posts JSON and reads no streams. The caller's identity and
 * trace headers go with each subscription as they go with every call of the hub's transport (through
 * the executor's `extensions.headers`, the mechanism the gateway's propagateHeaders option uses).
 * A stream whose connection fails ends with `streamCutError()` in place of the executor's error
 * (the raw socket message), marked for `eventsApart`.
 */
export function subscriptionExecutor(
  payload: SubgraphPayload,
  location: string,
  forwarded: readonly string[],
): Executor {
  // Read with undici rather than Hive's HTTP executor: ~20 KB less heap per idle stream
  // (sse-upstream.ts); its failures are shaped as that executor's, recognised here as a cut.
  const stream = sseExecutor(location);
  const cutMarked = (answer: unknown) =>
    isAsyncIterable<ExecutionResult>(answer)
      ? mapStream(answer, (result) =>
          isConnectionFailure(result)
            ? { value: { errors: [streamCutError()] }, last: true }
            : { value: result },
        )
      : answer;
  const executor = (request: ExecutionRequest) => {
    const client = (request.context as { request?: Request } | undefined)?.request?.headers;
    const headers: Record<string, string> = {};
    for (const name of forwarded) {
      const value = client?.get(name);
      if (value != null) headers[name] = value;
    }
    const answer = stream({ ...request, extensions: { ...request.extensions, headers } });
    return isPromiseLike(answer) ? Promise.resolve(answer).then(cutMarked) : cutMarked(answer);
  };
  return Object.assign(executor as Executor, {
    [Symbol.asyncDispose]: () => stream[Symbol.asyncDispose](),
  });
}

/**
 * Each event of a subscription as a message of its own. The Rust planner's runtime
 * (`@graphql-hive/router-runtime` 1.4) keeps one execution context for a whole subscription: an
 * event without data leaves the previous event's data in place (and runs its entity fetches again),
 * and errors pile up, each event carrying every earlier event's errors. So when the feed replica
 * serving a stream died, the client's last message was the previous event again with the error,
 * counted twice by a client that counts messages with data. Here a stream whose upstream was cut
 * ends with that error alone, and each event carries only the errors that are new with it.
 */
export function eventsApart(handler: UnifiedGraphHandler): UnifiedGraphHandler {
  const separate = (answer: unknown) => {
    if (!isAsyncIterable<ExecutionResult>(answer)) return answer;
    let previous: { errors: readonly unknown[]; length: number } | null = null;
    return mapStream(answer, (result) => {
      const errors = result.errors ?? [];
      if (errors.some(isStreamCut)) return { value: { errors: [streamCutError()] }, last: true };
      // The same array as the previous event's, grown: only its new entries are this event's.
      const fresh = errors.slice(previous?.errors === errors ? previous.length : 0);
      previous = { errors, length: errors.length };
      const value: ExecutionResult = { ...result };
      if (fresh.length > 0) value.errors = fresh;
      else delete value.errors;
      return { value };
    });
  };
  return (options) => {
    const built = handler(options);
    const wrap = (result: Awaited<typeof built>) => {
      const executor = result.executor;
      if (!executor) return result;
      const wrapped = (request: ExecutionRequest) => {
        const answer = executor(request);
        return isPromiseLike(answer) ? Promise.resolve(answer).then(separate) : separate(answer);
      };
      return { ...result, executor: wrapped as Executor };
    };
    return isPromiseLike<Awaited<typeof built>>(built)
      ? Promise.resolve(built).then(wrap)
      : wrap(built);
  };
}
