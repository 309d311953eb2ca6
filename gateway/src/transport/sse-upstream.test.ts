import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ExecutionResult } from "@graphql-tools/utils";
import { afterEach, describe, expect, it } from "vitest";
import { SseUpstream } from "./sse-upstream.js";

let server: Server | null = null;
const upstreams: SseUpstream[] = [];

afterEach(async () => {
  for (const upstream of upstreams.splice(0)) await upstream.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
});

/** A subgraph stand-in on a free port; `handle` answers each subscription POST. */
async function subgraph(
  handle: (request: IncomingMessage, response: ServerResponse, body: string) => void,
): Promise<SseUpstream> {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => handle(request, response, body));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const upstream = new SseUpstream(`http://127.0.0.1:${port}/graphql/stream`);
  upstreams.push(upstream);
  return upstream;
}

const streamHeaders = { "content-type": "text/event-stream; charset=utf-8" };

async function stream(upstream: SseUpstream): Promise<AsyncIterableIterator<ExecutionResult>> {
  const answer = await upstream.subscribe('{"query":"subscription { x }"}', { authorization: "t" });
  if (!(Symbol.asyncIterator in answer)) throw new Error(`not a stream: ${JSON.stringify(answer)}`);
  return answer;
}

describe("SseUpstream (transport/sse-upstream.ts)", () => {
  it("reads events split anywhere across chunks (a character of several bytes too), skips pings, ends at complete", async () => {
    let seen: { headers: IncomingMessage["headers"]; body: string } | null = null;
    const upstream = await subgraph((request, response, body) => {
      seen = { headers: request.headers, body };
      response.writeHead(200, streamHeaders);
      const wire = Buffer.from(
        ':\n\nevent: next\ndata: {"data":{"x":"ü1"}}\n\n:\n\nevent: next\ndata: {"data":{"x":2}}\n\nevent: complete\ndata:\n\n',
      );
      // One byte at a time: every boundary, the middle of "ü" included.
      let i = 0;
      const drip = () => {
        if (i < wire.length) {
          response.write(wire.subarray(i, i + 1));
          i += 1;
          setImmediate(drip);
        } else response.end();
      };
      drip();
    });
    const results: ExecutionResult[] = [];
    for await (const result of await stream(upstream)) results.push(result);
    expect(results).toEqual([{ data: { x: "ü1" } }, { data: { x: 2 } }]);
    expect(seen!.headers["authorization"]).toBe("t");
    expect(seen!.headers["accept"]).toBe("text/event-stream");
    expect(seen!.body).toBe('{"query":"subscription { x }"}');
  });

  it("a refusal answered as JSON is the operation's single result", async () => {
    const upstream = await subgraph((_request, response) => {
      response.writeHead(401, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ errors: [{ message: "no", extensions: { code: "FORBIDDEN" } }] }),
      );
    });
    expect(await upstream.subscribe("{}", {})).toEqual({
      errors: [{ message: "no", extensions: { code: "FORBIDDEN" } }],
    });
  });

  it("failures are shaped as Hive's executor shapes them: no data, the failure as originalError, no code", async () => {
    const refused = new SseUpstream("http://127.0.0.1:1/graphql/stream");
    upstreams.push(refused);
    const answer = (await refused.subscribe("{}", {})) as ExecutionResult;
    expect(answer.data).toBeUndefined();
    expect(answer.errors![0]!.originalError).toBeInstanceOf(Error);
    expect(answer.errors![0]!.message).toMatch(/ECONNREFUSED/);
    expect(answer.errors![0]!.extensions?.["code"]).toBeUndefined();

    // Cut mid-stream (the process serving it died): the last result is the failure, then the end.
    const upstream = await subgraph((_request, response) => {
      response.writeHead(200, streamHeaders);
      response.write('event: next\ndata: {"data":{"x":1}}\n\n', () =>
        setTimeout(() => response.socket?.destroy(), 20),
      );
    });
    const results: ExecutionResult[] = [];
    for await (const result of await stream(upstream)) results.push(result);
    expect(results[0]).toEqual({ data: { x: 1 } });
    expect(results).toHaveLength(2);
    expect(results[1]!.errors![0]!.originalError).toBeInstanceOf(Error);
    expect(results[1]!.errors![0]!.extensions?.["code"]).toBeUndefined();
  });

  it("closing the stream while it waits closes the upstream connection at once", async () => {
    const closed = new Promise<void>((resolve) => {
      void subgraph((_request, response) => {
        response.writeHead(200, streamHeaders);
        response.write(":\n\n");
        response.on("close", () => resolve());
      }).then(async (upstream) => {
        const events = await stream(upstream);
        const pending = events.next();
        await new Promise((r) => setTimeout(r, 50));
        await events.return!();
        expect(await pending).toEqual({ done: true, value: undefined });
      });
    });
    await closed;
  });

  it("a consumer that is behind pauses the connection; reading on resumes it", async () => {
    const total = 200;
    const upstream = await subgraph((_request, response) => {
      response.writeHead(200, streamHeaders);
      for (let i = 0; i < total; i++) response.write(`event: next\ndata: {"data":{"x":${i}}}\n\n`);
      response.end("event: complete\ndata:\n\n");
    });
    const events = await stream(upstream);
    // Nothing read for a while: everything sent sits in the socket, not in the queue.
    await new Promise((r) => setTimeout(r, 100));
    const seen: number[] = [];
    for await (const result of events) seen.push((result.data as { x: number }).x);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
  });
});
