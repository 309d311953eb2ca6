import { Pool } from "undici";

/** Why a subgraph call produced no answer; the executor turns each into a GraphQL error. */
export class SubgraphCallFailure extends Error {
  constructor(
    readonly kind: "timeout" | "unreachable" | "bad-answer",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SubgraphCallFailure";
  }
}

export interface SubgraphAnswer {
  status: number;
  body: string;
}

/**
 * Keep-alive connections to one subgraph, and one POST over them with a deadline.
 *
 * undici's `Pool.request` rather than `fetch`: measured on this machine (20 concurrent JSON POSTs
 * to a local server) it costs 50–80 µs of CPU per call against 330 µs for the WHATWG fetch that
 * Hive's HTTP executor uses, and a hub query makes several subgraph calls.
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
  async post(body: string, headers: Record<string, string>, name: string): Promise<SubgraphAnswer> {
    // The deadline covers the whole call (connect, headers and body), not each phase alone.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const answer = await this.pool.request({
        path: this.path,
        method: "POST",
        headers,
        body,
        signal: controller.signal,
      });
      return { status: answer.statusCode, body: await answer.body.text() };
    } catch (error) {
      if (timedOut)
        throw new SubgraphCallFailure(
          "timeout",
          `The ${name} subgraph did not answer within ${this.timeoutMs} ms.`,
        );
      throw new SubgraphCallFailure(
        "unreachable",
        `The ${name} subgraph could not be reached: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
