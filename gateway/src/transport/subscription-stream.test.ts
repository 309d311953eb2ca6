import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { join } from "node:path";
import { unifiedGraphHandler } from "@graphql-hive/router-runtime";
import type { ExecutionRequest } from "@graphql-tools/utils";
import type { ExecutionResult } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import { splitOperations } from "../sandbox/contract-operations.js";
import { eventsApart, subscriptionExecutor, type SubgraphPayload } from "./subscription-stream.js";

/**
 * The gateway's side of a feed stream, in one process: the real Rust planner runtime on the hub's
 * supergraph, the feed's stream read by the real subscription executor from a local GraphQL over
 * SSE server, the other subgraphs answering the planner's entity fetches. Built with the `graphql` the runtime
 * loads (its CommonJS build), not the one vitest resolves for this file.
 */
const graphql = createRequire(import.meta.url)("graphql") as typeof import("graphql");
const schemaDir = join(import.meta.dirname, "..", "..", "..", "schema");
const supergraph = readFileSync(join(schemaDir, "supergraph.graphql"), "utf8");
const cardEvents = splitOperations(readFileSync(join(schemaDir, "feed.graphql"), "utf8")).find(
  (operation) => operation.name === "CardEvents",
)!.document;

const event = (n: number) => ({
  data: {
    cardEvents: {
      eventId: `e${n}`,
      cursor: `c${n}`,
      type: "LOSS_REPORTED",
      occurredAt: "2026-12-05T00:00:00.000Z",
      channel: "COUNTER",
      statusBefore: "NORMAL",
      statusAfter: "TEMPORARY_LOSS",
      card: { __typename: "Card", id: "c_1" },
    },
  },
});

let feed: Server | null = null;

afterEach(async () => {
  feed?.closeAllConnections();
  await new Promise((resolve) => feed?.close(resolve) ?? resolve(undefined));
  feed = null;
});

/**
 * A feed's GraphQL over SSE endpoint: it answers with the events, then its connection is cut (as
 * when the feed replica is killed) — or, with `cut: false`, it stays open. Resolves to its URL.
 */
async function feedServer(events: unknown[], cut: boolean): Promise<string> {
  feed = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { "content-type": "text/event-stream" });
    for (const value of events) response.write(`event: next\ndata: ${JSON.stringify(value)}\n\n`);
    if (cut) setTimeout(() => response.socket?.destroy(), 20);
  });
  await new Promise<void>((resolve) => feed!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(feed.address() as AddressInfo).port}/graphql/stream`;
}

/**
 * CardEvents through the planner runtime (wrapped by `eventsApart`, as the gateway runs it), with
 * the feed streaming `events`; `failing` names the subgraph whose entity fetch fails for event 1.
 */
async function subscribe(options: { events: unknown[]; cut: boolean; failing?: string }) {
  const location = await feedServer(options.events, options.cut);
  const stream = subscriptionExecutor(
    {
      subgraphName: "feed",
      transportEntry: {
        kind: "http",
        subgraph: "feed",
        location: location.replace("/stream", ""),
        options: {},
      },
    } as unknown as SubgraphPayload,
    location,
    [],
  );
  let entityFetches = 0;
  const onSubgraphExecute = (subgraph: string, request: ExecutionRequest) => {
    if (subgraph === "feed") return stream(request);
    entityFetches += 1;
    const representations = (request.variables?.["representations"] ?? []) as unknown[];
    if (subgraph === options.failing && entityFetches <= 3)
      return { errors: [{ message: "down", extensions: { code: "SERVICE_UNAVAILABLE" } }] };
    return {
      data: {
        _entities: representations.map(() => ({
          __typename: "Card",
          number: "A1",
          province: "44",
          status: "TEMPORARY_LOSS",
          holder: null,
          bankAccount: null,
          password: null,
        })),
      },
    };
  };
  const handler = await eventsApart(unifiedGraphHandler)({
    unifiedGraph: graphql.buildSchema(supergraph, { assumeValidSDL: true }),
    getUnifiedGraphSDL: () => supergraph,
    onSubgraphExecute,
  } as unknown as Parameters<typeof unifiedGraphHandler>[0]);
  const results = await handler.executor!({
    document: graphql.parse(cardEvents),
    operationName: "CardEvents",
    operationType: "subscription",
    variables: {},
    context: {},
  } as unknown as ExecutionRequest);
  return results as AsyncIterableIterator<ExecutionResult>;
}

async function collect(stream: AsyncIterable<ExecutionResult>): Promise<ExecutionResult[]> {
  const results: ExecutionResult[] = [];
  for await (const result of stream) results.push(JSON.parse(JSON.stringify(result)));
  return results;
}

describe("a feed stream through the planner runtime", () => {
  it("whose connection is cut ends with SERVICE_UNAVAILABLE alone: no data, the previous event not again", async () => {
    const results = await collect(await subscribe({ events: [event(1), event(2)], cut: true }));
    expect(results.map((r) => (r.data?.["cardEvents"] as { eventId?: string })?.eventId)).toEqual([
      "e1",
      "e2",
      undefined,
    ]);
    const last = results.at(-1)!;
    expect(last).not.toHaveProperty("data");
    expect(last.errors).toHaveLength(1);
    expect(last.errors![0]!.extensions?.["code"]).toBe("SERVICE_UNAVAILABLE");
    expect(last.errors![0]!.message).toMatch(/Subscribe again with `after`/);
  });

  it("carries with each event only its own errors, not every earlier event's", async () => {
    // Event 1's card cannot be completed (cards down at that moment); event 2's can.
    const stream = await subscribe({
      events: [event(1), event(2)],
      cut: false,
      failing: "cards",
    });
    const first = (await stream.next()).value as ExecutionResult;
    const second = (await stream.next()).value as ExecutionResult;
    await stream.return!();
    expect(first.errors?.map((e) => e.extensions?.["code"])).toEqual(["SERVICE_UNAVAILABLE"]);
    expect((second.data?.["cardEvents"] as { eventId: string }).eventId).toBe("e2");
    expect(second.errors).toBeUndefined();
  });
});
