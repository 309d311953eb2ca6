import {
  createGraphQLError,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
} from "@graphql-tools/utils";
import { print, type DocumentNode } from "graphql";
import { Pool, type Dispatcher } from "undici";

/**
 * How long an upstream stream may send nothing at all, its pings included (the feed pings every
 * 12 s): past it the connection is taken as dead and the stream ends with an error, which the
 * client resumes from with its cursor.
 */
const SILENCE_MS = 60_000;

/** Results read ahead of the consumer before the connection is paused (a slow client). */
const READ_AHEAD = 16;

const EVENT_END = Buffer.from("\n\n");

/**
 * A failure to reach or to keep the upstream stream, as a GraphQL result shaped as Hive's HTTP
 * executor shapes it (no data; the error made from the failure, as `originalError`, no code):
 * subscription-stream.ts recognises a cut stream by that shape, and the error masker answers a
 * connection refused or reset as SERVICE_UNAVAILABLE.
 */
function failure(error: Error): ExecutionResult {
  return { errors: [createGraphQLError(error.message, { originalError: error })] };
}

/**
 * The results of one upstream subscription, as the gateway's executor hands them on: an async
 * iterator fed by the connection. Its methods live on the prototype (a thousand idle streams
 * hold one object each, not a set of closures), and `return` aborts the request at once, which
 * closes the connection: the feed lets go of the stream when its client leaves.
 */
class UpstreamResults implements AsyncIterableIterator<ExecutionResult> {
  private readonly queued: ExecutionResult[] = [];
  private waiter: ((step: IteratorResult<ExecutionResult>) => void) | null = null;
  private ended = false;
  /** Set while reading is paused for a consumer that is behind. */
  resume: (() => void) | null = null;
  abort: ((error?: Error) => void) | null = null;

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }

  push(result: ExecutionResult): boolean {
    if (this.ended) return true;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter({ done: false, value: result });
      return true;
    }
    this.queued.push(result);
    return this.queued.length < READ_AHEAD;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const result = this.queued.shift();
    if (result) {
      if (this.resume && this.queued.length < READ_AHEAD / 2) {
        const resume = this.resume;
        this.resume = null;
        resume();
      }
      return Promise.resolve({ done: false, value: result });
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.queued.length = 0;
    this.end();
    this.abort?.(new Error("the subscription was closed"));
    this.abort = null;
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    void this.return();
    return Promise.reject(error);
  }
}

/**
 * undici's dispatch handler for one upstream subscription: before the answer's headers it
 * settles `answered` (the stream, or the single result of a refusal or a failure); then it parses
 * GraphQL over SSE messages (`event: next` / `event: complete`, pings ignored) into the results.
 */
class SseReader implements Dispatcher.DispatchHandler {
  private stream: UpstreamResults | null = null;
  private readonly chunks: Buffer[] = [];
  private pending: Buffer | null = null;
  private settled = false;
  /** undici's abort of this request, handed over at connect. */
  private abort: ((error?: Error) => void) | null = null;
  /** undici's resume of a paused response, handed over with the headers. */
  private resumeReading: (() => void) | null = null;

  constructor(private readonly answered: (answer: ExecutionResult | UpstreamResults) => void) {}

  private settle(answer: ExecutionResult | UpstreamResults): void {
    if (this.settled) return;
    this.settled = true;
    this.answered(answer);
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[] | string[] | null, resume: () => void): boolean {
    let type = "";
    for (let i = 0; rawHeaders && i < rawHeaders.length; i += 2)
      if (String(rawHeaders[i]).toLowerCase() === "content-type") type = String(rawHeaders[i + 1]);
    if (status === 200 && type.includes("text/event-stream")) {
      const stream = new UpstreamResults();
      stream.abort = this.abort;
      this.stream = stream;
      this.resumeReading = resume;
      this.settle(stream);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    const stream = this.stream;
    // Not a stream: a refusal or an error, answered whole (JSON) and read at the end.
    if (!stream) {
      this.chunks.push(chunk);
      return true;
    }
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let more = true;
    for (let end = data.indexOf(EVENT_END); end >= 0; end = data.indexOf(EVENT_END)) {
      const message = data.subarray(0, end).toString("utf8");
      data = data.subarray(end + EVENT_END.length);
      let event = "";
      let payload = "";
      for (const line of message.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) payload += line.slice(5).trim();
      }
      if (event === "complete") {
        stream.end();
        return true;
      }
      if (payload) {
        const parsed = JSON.parse(payload) as { payload?: ExecutionResult } & ExecutionResult;
        more = stream.push(parsed.payload ?? parsed) && more;
      }
    }
    this.pending = data.length > 0 ? Buffer.from(data) : null;
    // Paused until the consumer has caught up (it resumes the connection).
    if (!more) stream.resume = this.resumeReading;
    return more;
  }

  onComplete(): void {
    if (this.stream) {
      this.stream.end();
      return;
    }
    const body = Buffer.concat(this.chunks).toString("utf8");
    try {
      const parsed = JSON.parse(body) as ExecutionResult;
      if (parsed && (parsed.data !== undefined || Array.isArray(parsed.errors))) {
        this.settle(parsed);
        return;
      }
    } catch {
      // Not a GraphQL answer: below.
    }
    this.settle(failure(new Error("The subgraph answered a subscription without a stream.")));
  }

  onError(error: Error): void {
    if (this.stream) {
      // Cut off mid-stream (the replica died, the connection dropped): the last result is the
      // error, then the end, as Hive's own executor does.
      if (this.stream.abort) this.stream.push(failure(error));
      this.stream.end();
      return;
    }
    this.settle(failure(error));
  }
}

/**
 * A subgraph's subscriptions over GraphQL over SSE (distinct connections), each one a POST held
 * open on undici's pool and read with a dispatch handler.
 *
 * Why not Hive's HTTP executor (`@graphql-mesh/transport-http`), which it replaces for streams:
 * each idle stream held ~30 KB of heap through it (a WHATWG fetch Request and Response, a
 * ReadableStream and its reader, a TextDecoder, a Repeater, joined abort signals; measured with
 * 300 idle streams to the feed, heap after collection), against ~7 KB here, most of it undici's
 * connection. The gateway holds one such stream per subscriber (docs/performance.md, "The
 * status-change feed").
 */
export class SseUpstream {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(url: string) {
    const parsed = new URL(url);
    this.path = `${parsed.pathname}${parsed.search}`;
    // One connection per open stream: as many as there are streams.
    this.pool = new Pool(parsed.origin, { bodyTimeout: SILENCE_MS });
  }

  /**
   * Opens one subscription: its results, or the single result of a refusal (the subgraph's
   * JSON errors) or of a failure to reach it.
   */
  subscribe(
    body: string,
    headers: Record<string, string>,
  ): Promise<ExecutionResult | AsyncIterableIterator<ExecutionResult>> {
    return new Promise((resolve) => {
      const reader = new SseReader(resolve);
      this.pool.dispatch(
        {
          path: this.path,
          method: "POST",
          headers: { ...headers, "content-type": "application/json", accept: "text/event-stream" },
          body,
        },
        reader,
      );
    });
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

const printed = new WeakMap<DocumentNode, string>();

/**
 * An executor of a subgraph's subscriptions at `location` over SseUpstream, taking what Hive's HTTP
 * executor takes: the request, with the headers to send in `extensions.headers`. The plan's
 * documents are reused across subscriptions: each is printed once.
 */
export function sseExecutor(location: string): Executor & AsyncDisposable {
  const upstream = new SseUpstream(location);
  const executor = (request: ExecutionRequest) => {
    let query = printed.get(request.document);
    if (query === undefined) {
      query = print(request.document);
      printed.set(request.document, query);
    }
    const headers = (request.extensions?.["headers"] ?? {}) as Record<string, string>;
    const body = JSON.stringify({
      query,
      variables: request.variables,
      operationName: request.operationName,
    });
    return upstream.subscribe(body, headers);
  };
  return Object.assign(executor as Executor, {
    [Symbol.asyncDispose]: () => upstream.close(),
  });
}
