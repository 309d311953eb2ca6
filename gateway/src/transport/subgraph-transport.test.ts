import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ExecutionRequest, ExecutionResult } from "@graphql-tools/utils";
import { parse } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import { createSubgraphTransport } from "./subgraph-transport.js";

interface Seen {
  body: { query: string; variables?: unknown; operationName?: string };
  headers: IncomingMessage["headers"];
}

type Handler = (seen: Seen, response: ServerResponse, request: IncomingMessage) => void;

const servers: Server[] = [];
const disposers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(disposers.splice(0).map((dispose) => dispose()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A real HTTP subgraph stand-in that records what it was sent. */
async function subgraph(handler: Handler): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      const entry = { body: JSON.parse(text) as Seen["body"], headers: request.headers };
      seen.push(entry);
      handler(entry, response, request);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, seen };
}

function answer(response: ServerResponse, result: unknown, delayMs = 0): void {
  setTimeout(() => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(result));
  }, delayMs);
}

function executorFor(url: string, timeoutMs = 1_000) {
  const executor = createSubgraphTransport({
    timeoutMs,
    identityHeaders: ["authorization"],
    traceHeaders: ["x-request-id"],
  }).getSubgraphExecutor({ subgraphName: "cards", transportEntry: { location: url } });
  disposers.push(async () => executor[Symbol.asyncDispose]());
  return (request: ExecutionRequest) => executor(request) as Promise<ExecutionResult>;
}

function clientRequest(headers: Record<string, string>): { request: Request } {
  return { request: new Request("http://gateway.test/graphql", { headers }) };
}

const cardQuery = parse("query Card($id: ID!) { card(id: $id) { id status } }");
const lossMutation = parse("mutation Loss($id: ID!) { reportLoss(cardId: $id) { id } }");

describe("subgraph transport", () => {
  it("posts the document, variables and operation name with the caller's token and request id, and returns the subgraph's result", async () => {
    const { url, seen } = await subgraph((_, response) =>
      answer(response, { data: { card: { id: "c1", status: "NORMAL" } } }),
    );
    const execute = executorFor(url);
    const result = await execute({
      document: cardQuery,
      variables: { id: "c1" },
      operationName: "Card",
      context: clientRequest({
        authorization: "Bearer counter-1",
        "x-request-id": "req-42",
        cookie: "not-forwarded=1",
      }),
    });
    expect(result).toEqual({ data: { card: { id: "c1", status: "NORMAL" } } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).toEqual({
      query: expect.stringContaining("card(id: $id)"),
      variables: { id: "c1" },
      operationName: "Card",
    });
    expect(seen[0]!.headers["authorization"]).toBe("Bearer counter-1");
    expect(seen[0]!.headers["x-request-id"]).toBe("req-42");
    expect(seen[0]!.headers["cookie"]).toBeUndefined();
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
  });

  it("shares one call between identical concurrent queries of the same token, each with its own copy of the answer", async () => {
    const { url, seen } = await subgraph((_, response) =>
      answer(response, { data: { card: { id: "c1", status: "NORMAL" } } }, 50),
    );
    const execute = executorFor(url);
    const ask = (token: string, requestId: string) =>
      execute({
        document: cardQuery,
        variables: { id: "c1" },
        context: clientRequest({ authorization: token, "x-request-id": requestId }),
      });
    const [first, second, otherCaller] = await Promise.all([
      ask("Bearer counter-1", "a"),
      ask("Bearer counter-1", "b"),
      ask("Bearer bank-7", "c"),
    ]);
    expect(seen.map((s) => s.headers["authorization"]).sort()).toEqual([
      "Bearer bank-7",
      "Bearer counter-1",
    ]);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect((second.data as { card: object }).card).not.toBe((first.data as { card: object }).card);
    expect(otherCaller).toEqual(first);
    // Nothing is kept after the call settles: a later identical query is a new call.
    await ask("Bearer counter-1", "d");
    expect(seen).toHaveLength(3);
  });

  it("never shares mutations", async () => {
    const { url, seen } = await subgraph((_, response) =>
      answer(response, { data: { reportLoss: { id: "c1" } } }, 20),
    );
    const execute = executorFor(url);
    const report = () =>
      execute({
        document: lossMutation,
        variables: { id: "c1" },
        context: clientRequest({ authorization: "Bearer counter-1" }),
      });
    await Promise.all([report(), report()]);
    expect(seen).toHaveLength(2);
  });

  it("answers GATEWAY_TIMEOUT when the subgraph overruns the deadline, and drops the connection", async () => {
    let closed = false;
    const { url } = await subgraph((_, response, request) => {
      response.on("close", () => {
        closed = true;
      });
      void request;
    });
    const result = await executorFor(url, 100)({ document: cardQuery, variables: { id: "c1" } });
    expect(result.errors?.[0]?.extensions?.["code"]).toBe("GATEWAY_TIMEOUT");
    expect(result.errors?.[0]?.message).toContain("cards");
    await expect.poll(() => closed).toBe(true);
  });

  it("answers DOWNSTREAM_SERVICE_ERROR when the subgraph cannot be reached", async () => {
    const { url } = await subgraph(() => undefined);
    await new Promise<void>((resolve) => {
      const server = servers.pop()!;
      server.closeAllConnections();
      server.close(() => resolve());
    });
    const result = await executorFor(url)({ document: cardQuery, variables: { id: "c1" } });
    expect(result.errors?.[0]?.extensions?.["code"]).toBe("DOWNSTREAM_SERVICE_ERROR");
    expect(result.errors?.[0]?.message).toMatch(/ECONNREFUSED/);
  });

  it("answers DOWNSTREAM_SERVICE_ERROR for an answer that is not a GraphQL result, and passes a GraphQL error answer through", async () => {
    const { url } = await subgraph((seen, response) => {
      if (seen.body.variables && (seen.body.variables as { id: string }).id === "proxy") {
        response.writeHead(502, { "content-type": "text/html" });
        response.end("<html>Bad gateway</html>");
        return;
      }
      response.writeHead(400, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          errors: [{ message: "Variable $id missing", extensions: { code: "BAD_USER_INPUT" } }],
        }),
      );
    });
    const execute = executorFor(url);
    const proxied = await execute({ document: cardQuery, variables: { id: "proxy" } });
    expect(proxied.errors?.[0]?.extensions?.["code"]).toBe("DOWNSTREAM_SERVICE_ERROR");
    expect(proxied.errors?.[0]?.message).toContain("502");
    const invalid = await execute({ document: cardQuery, variables: { id: "x" } });
    expect(invalid.data).toBeUndefined();
    expect(invalid.errors?.map((e) => [e.message, e.extensions?.["code"]])).toEqual([
      ["Variable $id missing", "BAD_USER_INPUT"],
    ]);
  });
});
