import { Pool, type Dispatcher } from "undici";

/** Why a subgraph call produced no answer; the executor turns each into a GraphQL error. */
export class SubgraphCallFailure extends Error {
  /**
   * The request the call was made for, its id and trace (error-masking.ts logs them with the
   * failure: the gateway's context is not carried to where errors are masked).
   */
  logFields: Record<string, string> = {};

  constructor(
    readonly kind: "timeout" | "unreachable" | "bad-answer",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SubgraphCallFailure";
  }

  /** This failure as one caller's: a shared call fails for each of the requests it served. */
  for(logFields: Record<string, string>): SubgraphCallFailure {
    const copy = new SubgraphCallFailure(this.kind, this.message, { cause: this.cause });
    copy.logFields = logFields;
    return copy;
  }
}

export interface SubgraphAnswer {
  status: number;
  body: string;
}

/**
 * Keep-alive connections to one subgraph, and one POST over them with a deadline.
 *
 * undici's `Pool` rather than `fetch`: measured on this machine (20 concurrent JSON POSTs to a
 * local server) its `request` costs 50–80 µs of CPU per call against 330 µs for the WHATWG fetch
 * that Hive's HTTP executor uses, and a hub query makes several subgraph calls. Below `request`,
 * its `dispatch` with a handler that gathers the answer's bytes: no readable stream per answer
 * and no AbortController per call (undici hands the handler the call's abort function), which
 * were most of what was left of a call's cost in the gateway's profile (docs/performance.md).
 */
export class SubgraphConnection {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    url: string,
    private readonly timeoutMs: number,
    connections = 64,
  ) {
    const parsed = new URL(url);
    this.path = `${parsed.pathname}${parsed.search}`;
    this.pool = new Pool(parsed.origin, { connections });
  }

  /** POSTs `body`; resolves with the status and text, or rejects with a SubgraphCallFailure. */
  post(body: string, headers: Record<string, string>, name: string): Promise<SubgraphAnswer> {
    return new Promise<SubgraphAnswer>((resolve, reject) => {
      const call = new AnswerCollector(resolve, (error) => {
        reject(
          call.timedOut
            ? new SubgraphCallFailure(
                "timeout",
                `The ${name} subgraph did not answer within ${this.timeoutMs} ms.`,
              )
            : new SubgraphCallFailure(
                "unreachable",
                `The ${name} subgraph could not be reached: ${error.message}`,
                { cause: error },
              ),
        );
      });
      // The deadline covers the whole call (queueing, connect, headers and body).
      call.deadline(this.timeoutMs);
      this.pool.dispatch({ path: this.path, method: "POST", headers, body }, call);
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * undici's dispatch handler for one call (the interface its own `request` implements): gathers
 * the status and body, and aborts the call when the deadline passes, even one still queued.
 */
class AnswerCollector implements Dispatcher.DispatchHandler {
  timedOut = false;
  private status = 0;
  private readonly chunks: Buffer[] = [];
  private abort: ((error: Error) => void) | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly resolve: (answer: SubgraphAnswer) => void,
    private readonly fail: (error: Error) => void,
  ) {}

  deadline(ms: number): void {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.abort?.(new Error("deadline passed"));
    }, ms);
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.timedOut) abort(new Error("deadline passed"));
    else this.abort = abort;
  }

  onHeaders(status: number): boolean {
    this.status = status;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    clearTimeout(this.timer);
    const body =
      this.chunks.length === 1
        ? this.chunks[0]!.toString("utf8")
        : Buffer.concat(this.chunks).toString("utf8");
    this.resolve({ status: this.status, body });
  }

  onError(error: Error): void {
    clearTimeout(this.timer);
    this.fail(error);
  }
}
