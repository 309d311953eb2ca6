import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { getGraphQLWSOptions, type GatewayRuntime } from "@graphql-hive/gateway-runtime";
import type { Logger } from "@hub/kit";
import type { ExecutionArgs, ExecutionResult, GraphQLError, GraphQLFormattedError } from "graphql";
import type { ConnectionInitMessage, Context, FormattedExecutionResult } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { OpenStreams } from "./open-streams.js";
import type { AuthContext } from "./plugins/auth.plugin.js";

export interface WebSocketOptions {
  /** Where GraphQL is served: the only path a WebSocket may open on. */
  path: string;
  /** Largest message accepted, in bytes (as the HTTP body limit). */
  maxPayload: number;
  /** The gateway's error masker: only stable codes and our own messages leave. */
  mask: (error: unknown) => GraphQLError;
  logger: Logger;
  /** A connection counts as one open stream (HUB_MAX_STREAMS); none is accepted past the limit. */
  streams: OpenStreams;
  /**
   * Every this many milliseconds each connection is pinged, and one that has not answered the
   * previous ping is terminated (HUB_WS_PING_MS, 12 s as SSE's pings by default): an idle
   * subscription outlives proxies' idle timeouts, and a client gone without a close (half-open
   * TCP) lets go of its stream and of its upstream feed stream.
   */
  pingMs?: number;
}

/** Default of HUB_WS_PING_MS: as graphql-yoga's pings on SSE streams. */
export const DEFAULT_WS_PING_MS = 12_000;

export interface GatewayWebSockets {
  /** The HTTP server's `upgrade` listener. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every connection (1001 Going away) and stops accepting new ones. */
  stop(): Promise<void>;
}

type ConnectionParams = ConnectionInitMessage["payload"];

/**
 * The token of a WebSocket operation: browsers cannot set headers on a WebSocket, so graphql-ws
 * clients send it in `connectionParams` (`{ authorization: "Bearer …" }`); a Node client may
 * send the header on the upgrade request instead.
 */
function authorizationOf(params: ConnectionParams, upgrade: IncomingMessage): string | undefined {
  const fromParams = params?.["authorization"] ?? params?.["Authorization"];
  if (typeof fromParams === "string") return fromParams;
  return upgrade.headers.authorization;
}

/** WebSocket has no HTTP status per operation: the masker's `http` extension stays home. */
function wireErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => {
    const formatted = error.toJSON();
    if (!formatted.extensions || !("http" in formatted.extensions)) return formatted;
    const { http: _http, ...extensions } = formatted.extensions;
    return { ...formatted, extensions };
  });
}

/**
 * GraphQL over WebSocket (`graphql-transport-ws`, graphql-ws's server on the `ws` package) at the
 * gateway's /graphql, beside HTTP and SSE: the runtime serves WebSocket only when the server
 * attaches graphql-ws to it (Hive Gateway's own Node server does the same). Each operation runs
 * through the runtime as an HTTP request would, with a Request of its own that carries the
 * connection's token as its `authorization` header and a fresh request id: authentication, rate
 * limit, persisted-only mode, the token's expiry and the forwarding of the token to the feed's
 * SSE path all read the request as they do over HTTP.
 */
export function attachWebSockets(
  gateway: GatewayRuntime<AuthContext>,
  options: WebSocketOptions,
): GatewayWebSockets {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  const runtime = getGraphQLWSOptions<AuthContext, Extra>(gateway, (ctx) => {
    const upgrade = ctx.extra.request;
    const headers = new Headers();
    for (const [name, value] of Object.entries(upgrade.headers))
      if (typeof value === "string") headers.set(name, value);
    const authorization = authorizationOf(ctx.connectionParams, upgrade);
    if (authorization) headers.set("authorization", authorization);
    else headers.delete("authorization");
    headers.set("x-request-id", randomUUID());
    const url = `http://${upgrade.headers.host ?? "localhost"}${upgrade.url ?? options.path}`;
    return {
      req: upgrade,
      socket: ctx.extra.socket,
      // POST: the runtime refuses mutations in GET requests, and none of this is a URL's business.
      request: new gateway.fetchAPI.Request(url, { method: "POST", headers }),
    };
  });
  const { execute, subscribe } = runtime;
  // A rejection here (UNAUTHENTICATED, RATE_LIMITED… raised before execution) would close the
  // whole socket with graphql-ws's 4500 and the error's raw message: it is the operation's error.
  const guarded =
    (run: typeof execute) =>
    async (args: ExecutionArgs): Promise<ExecutionResult | AsyncIterable<ExecutionResult>> => {
      try {
        return await run!(args);
      } catch (error) {
        return { errors: [options.mask(error)] };
      }
    };
  const server = useServer<ConnectionParams>(
    {
      ...runtime,
      // An unexpected failure closes the socket without its message (graphql-ws reads NODE_ENV).
      isProd: true,
      execute: guarded(execute),
      subscribe: guarded(subscribe),
      onNext: (_ctx, _id, _payload, _args, result): FormattedExecutionResult | void => {
        if (!result.errors?.length) return undefined;
        return { ...result, errors: wireErrors(result.errors) } as FormattedExecutionResult;
      },
      // A stream that fails mid-way: graphql-ws would send the raw message.
      onError: (_ctx: Context<ConnectionParams, Extra>, _id, _payload, errors) =>
        wireErrors(errors.map((error) => options.mask(error.originalError ?? error))),
    },
    sockets,
  );
  // The `ws` package's heartbeat: one interval for the whole server, not a timer per connection.
  // Browsers and the `ws` client answer a ping frame with a pong by themselves.
  const unanswered = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const ws of sockets.clients) {
      if (unanswered.has(ws)) {
        ws.terminate();
        continue;
      }
      unanswered.add(ws);
      ws.ping();
    }
  }, options.pingMs ?? DEFAULT_WS_PING_MS);
  heartbeat.unref();
  return {
    handleUpgrade(request, socket, head) {
      const path = (request.url ?? "/").split("?")[0];
      if (path !== options.path) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (options.streams.full) {
        socket.end(
          "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        );
        return;
      }
      const started = performance.now();
      // Counted once the handshake succeeded: a failed one never calls back.
      sockets.handleUpgrade(request, socket, head, (ws) => {
        const closed = options.streams.opened();
        ws.on("pong", () => unanswered.delete(ws));
        ws.once("close", (code) => {
          closed();
          options.logger.info(
            { protocol: "ws", path, code, ms: Math.round(performance.now() - started) },
            "websocket closed",
          );
        });
        sockets.emit("connection", ws, request);
      });
    },
    async stop() {
      clearInterval(heartbeat);
      await server.dispose();
    },
  };
}
