import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody, type RunningServer } from "@hub/kit";
import type { GraphQLError } from "graphql";
import { createErrorMasker } from "./error-masking.js";
import { Registry } from "prom-client";
import { createHubGateway, type HubGatewayOptions } from "./hub-gateway.js";
import { refusalCounter } from "./plugins/metrics.plugin.js";
import { DEFAULT_MAX_STREAMS, OpenStreams } from "./open-streams.js";
import { requestTraceFields } from "./plugins/tracing.plugin.js";
import { checkReadiness } from "./readiness.js";
import { subgraphDirectory } from "./subgraph-directory.js";
import { attachWebSockets } from "./websocket.js";

export interface GatewayServerOptions extends HubGatewayOptions {
  port: number;
  host?: string;
  /** Bearer token Prometheus must present at /metrics; without one /metrics is not served. */
  metricsToken?: string;
  /** Largest request body accepted, in bytes (the contract's biggest request is far below it). */
  maxBodyBytes?: number;
  /**
   * GraphQL requests served at once; more are turned away with 503 and Retry-After. Bounding the
   * work in progress bounds the gateway's memory (its heap is capped: NODE_FLAGS in
   * harness/src/processes/spawn.ts) and keeps latency for the requests it accepts. Streams
   * (GraphQL over SSE, WebSocket) are not requests in flight: they have their own limit,
   * `maxStreams`.
   */
  maxInFlight?: number;
  /**
   * Subscription streams open at once: GraphQL over SSE responses and WebSocket connections; more
   * are turned away with 503 and Retry-After (HUB_MAX_STREAMS).
   */
  maxStreams?: number;
  /**
   * How often each WebSocket connection is pinged, in milliseconds; one that has not answered the
   * previous ping is terminated (HUB_WS_PING_MS, default 12 s).
   */
  wsPingMs?: number;
}

/**
 * A GraphQL over SSE request (graphql-sse's client, GraphiQL, EventSource): its answer is a stream
 * that stays open as long as the subscription, so it is counted among the streams. A query sent
 * with that Accept is answered as a one-event stream and counted there too: every request is
 * under one of the two limits, whatever it asks for.
 */
function isStream(request: IncomingMessage): boolean {
  return (request.headers.accept ?? "").includes("text/event-stream");
}

function refuse(
  response: ServerResponse,
  counted: (code: string) => void,
  status: number,
  code: "QUERY_TOO_COMPLEX" | "SERVICE_UNAVAILABLE",
  message: string,
): void {
  counted(code);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    ...(status === 503 ? { "retry-after": "1" } : {}),
  });
  response.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/**
 * What the gateway runtime is handed as the already-read body: a JSON body parsed (an object or
 * a batch), anything else as its bytes, which the runtime parses and answers as it always does.
 * Why read it here at all: handed the socket stream, the runtime pipes every body through a
 * WHATWG TransformStream to bound its size (graphql-yoga's body limit) and reads it through
 * WHATWG streams before parsing it, while this server has bounded it already; reading it here took
 * the gateway from 1.31 to 1.08 ms of CPU per varied PersonCards (docs/performance.md).
 */
function preParsed(request: IncomingMessage, body: Buffer): unknown {
  if (!request.headers["content-type"]?.includes("json")) return body;
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed !== null && typeof parsed === "object" && Object.keys(parsed).length > 0
      ? parsed
      : body;
  } catch {
    return body;
  }
}

export interface RunningGateway extends RunningServer {
  /** Base URL of the gateway, without `/graphql`. */
  readonly origin: string;
}

/** Serves the gateway runtime over node:http; `stop` drains it and disposes the runtime. */
export async function startGatewayServer(options: GatewayServerOptions): Promise<RunningGateway> {
  const registry = options.registry ?? new Registry();
  const gateway = createHubGateway({ ...options, registry });
  // Requests turned away here never reach the runtime's metrics: counted as answered with their code.
  const refused = refusalCounter(registry);
  const maxBody = options.maxBodyBytes ?? 100_000;
  const maxInFlight = options.maxInFlight ?? 128;
  let inFlight = 0;
  const streams = new OpenStreams(options.maxStreams ?? DEFAULT_MAX_STREAMS);
  const directory = subgraphDirectory(options.supergraphSdl, options.subgraphUrls);
  // The body limit is checked before the gateway reads anything: a POST must declare its length.
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0];
    // One request id from the client (or made here) travels to every subgraph and every log line.
    const supplied = request.headers["x-request-id"];
    const requestId =
      typeof supplied === "string" && /^[\w-]{1,64}$/.test(supplied) ? supplied : randomUUID();
    request.headers["x-request-id"] = requestId;
    response.setHeader("x-request-id", requestId);
    const started = performance.now();
    response.once("finish", () => {
      options.logger.info(
        {
          requestId,
          ...requestTraceFields(request),
          method: request.method,
          path,
          status: response.statusCode,
          ms: Math.round(performance.now() - started),
        },
        "request",
      );
    });
    if (path === "/readyz") {
      void checkReadiness(directory).then((readiness) => {
        response.writeHead(readiness.ready ? 200 : 503, { "content-type": "application/json" });
        response.end(JSON.stringify(readiness));
      });
      return;
    }
    if (
      path === "/metrics" &&
      (!options.metricsToken || request.headers.authorization !== `Bearer ${options.metricsToken}`)
    ) {
      response.writeHead(options.metricsToken ? 401 : 404, { "content-type": "text/plain" });
      response.end(
        options.metricsToken
          ? "metrics need the metrics token\n"
          : "metrics are off (set HUB_METRICS_TOKEN)\n",
      );
      return;
    }
    if (request.method === "POST") {
      const length = Number(request.headers["content-length"] ?? Number.NaN);
      if (Number.isNaN(length))
        return refuse(
          response,
          refused,
          411,
          "QUERY_TOO_COMPLEX",
          "A request must declare its Content-Length.",
        );
      if (length > maxBody)
        return refuse(
          response,
          refused,
          413,
          "QUERY_TOO_COMPLEX",
          `The request body is larger than ${maxBody} bytes.`,
        );
    }
    // Liveness is answered whatever the load: an orchestrator must not restart a busy gateway.
    if (path === "/healthz") return gateway(request, response);
    if (isStream(request)) {
      if (streams.full)
        return refuse(
          response,
          refused,
          503,
          "SERVICE_UNAVAILABLE",
          "The hub holds as many subscriptions as it can; retry in a second.",
        );
      response.once("close", streams.opened());
    } else {
      if (inFlight >= maxInFlight)
        return refuse(
          response,
          refused,
          503,
          "SERVICE_UNAVAILABLE",
          "The hub is at capacity; retry in a second.",
        );
      inFlight += 1;
      response.once("close", () => {
        inFlight -= 1;
      });
    }
    if (request.method !== "POST" || !request.headers["content-length"])
      return gateway(request, response);
    // Within maxBody already (its Content-Length was checked, and Node holds a body to it).
    readBody(request, maxBody).then(
      (body) => {
        (request as IncomingMessage & { body?: unknown }).body = preParsed(request, body);
        return gateway(request, response);
      },
      // The client went away mid-body: nobody is left to answer.
      () => response.destroy(),
    );
  });
  const mask = createErrorMasker(options.logger);
  const sockets = attachWebSockets(gateway, {
    path: gateway.graphqlEndpoint,
    maxPayload: maxBody,
    mask: (error) => mask(error, "") as GraphQLError,
    logger: options.logger,
    streams,
    pingMs: options.wsPingMs,
  });
  server.on("upgrade", (request, socket, head) => sockets.handleUpgrade(request, socket, head));
  // The supergraph loaded before the first client: the runtime otherwise loads it on its first
  // HTTP request, and an operation over WebSocket (which does not pass through that) found no
  // schema ("Expected null to be a GraphQL schema") until some HTTP request had come.
  await gateway.getSchema();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${options.host ?? "127.0.0.1"}:${port}`;
  return {
    origin,
    url: `${origin}/graphql`,
    async stop() {
      // WebSocket clients are told to go away (1001) and reconnect elsewhere with their cursor.
      await sockets.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await gateway.dispose();
    },
  };
}
