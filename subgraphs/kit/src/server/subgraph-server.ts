import type { CommandStatsSnapshot } from "../mongo/command-stats.js";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap, type BaseContext } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from "@apollo/server/plugin/disabled";
import type { GraphQLSchema } from "graphql";
import type { Caller } from "../auth/caller.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { HubError } from "../errors.js";
import { EffectScope, settleEffects, type PendingEffect } from "../events/effects.js";
import type { Inbox } from "../events/inbox.js";
import type { Logger } from "../logger.js";
import { DEFAULT_EFFECT_WAIT_MS } from "../settings/subgraph-env.js";
import { receiveEvents } from "./event-endpoint.js";
import { createErrorFormatter } from "./format-error.js";
import { errorBody, sendJson } from "./json-response.js";
import { BodyTooLarge, readBody } from "./read-body.js";
import { verifiedCaller } from "./verified-caller.js";
import type { StreamEndpointFactory } from "./streams.js";

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  schema: GraphQLSchema;
  port: number;
  host?: string;
  verifier: TokenVerifier;
  /** Verifies the relay's service tokens at POST /events; `verifier` when absent. */
  eventVerifier?: TokenVerifier;
  logger: Logger;
  /** Builds the per-request context (fresh DataLoaders) for a verified caller. */
  createContext: (caller: Caller, requestId: string, effects: EffectScope) => TContext;
  /** Readiness: can this subgraph reach its database? */
  isReady: () => Promise<boolean>;
  /** Receives cross-subgraph events from other subgraphs' relays (POST /events). */
  inbox?: Inbox;
  /** Database command counts (opt-in, for benchmarks), served at GET /dbstats. */
  dbStats?: () => CommandStatsSnapshot;
  /** The outbox relay's figures, served at GET /outbox for operators (pending, lag). */
  outboxStats?: () => Promise<unknown>;
  /**
   * The subgraph's own Prometheus metrics (text exposition format), served at GET /metrics: figures
   * that belong to one process (the feed's open streams), so Prometheus scrapes each replica.
   */
  metrics?: () => Promise<string>;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /**
   * How long a request waits, after its changes committed, for their effects to reach the other
   * subgraphs before it answers (HUB_EFFECT_WAIT_MS); what is late is listed in
   * `extensions.pendingEffects`.
   */
  effectWaitMs?: number;
  /** Subscriptions served beside /graphql (streams.ts); none when absent. */
  subscriptions?: StreamEndpointFactory<TContext>;
}

export interface RunningServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** A subgraph call this slow (ms) is logged at info, however it ended. */
const SLOW_CALL_MS = 500;

/** A request target's path and query string (`?…` or empty), without building a WHATWG URL. */
function splitTarget(target: string): { pathname: string; search: string } {
  const query = target.indexOf("?");
  return query < 0
    ? { pathname: target, search: "" }
    : { pathname: target.slice(0, query), search: target.slice(query) };
}

/** Adds `extensions.pendingEffects` to a serialised GraphQL answer when some effect is late. */
function withPendingEffects(body: string, pending: PendingEffect[]): string {
  if (pending.length === 0) return body;
  const parsed = JSON.parse(body) as { extensions?: Record<string, unknown> };
  parsed.extensions = { ...parsed.extensions, pendingEffects: pending };
  return JSON.stringify(parsed);
}

/**
 * Serves one subgraph over HTTP with Apollo Server. Every GraphQL request must carry the same
 * valid bearer token the gateway accepted (CONTRACT.md: a subgraph called directly rejects a
 * request without it); the token is verified here, never trusted from a forwarded payload.
 */
export async function startSubgraphServer<TContext extends BaseContext>(
  options: SubgraphServerOptions<TContext>,
): Promise<RunningServer> {
  const { logger } = options;
  const formatError = createErrorFormatter(logger);
  const apollo = new ApolloServer<TContext>({
    schema: options.schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // Two plugins Apollo Server installs by default run per field of every request: cache-control
    // hints (the hub sends no Cache-Control from subgraphs; the gateway decides) and federated
    // tracing for Apollo's usage reporting (the gateway does not ask for traces). Off, they cost
    // nothing (profile of a subgraph under varied PersonCards: docs/performance.md).
    plugins: [ApolloServerPluginCacheControlDisabled(), ApolloServerPluginInlineTraceDisabled()],
    logger: {
      debug: (message) => logger.debug(message),
      info: (message) => logger.info(message),
      warn: (message) => logger.warn(message),
      error: (message) => logger.error(message),
    },
  });
  await apollo.start();
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const effectWaitMs = options.effectWaitMs ?? DEFAULT_EFFECT_WAIT_MS;
  const streams = options.subscriptions?.({
    verifier: options.verifier,
    // A subscription writes nothing: its effect scope stays empty.
    createContext: (caller, requestId) =>
      options.createContext(caller, requestId, new EffectScope()),
    formatError,
    logger,
  });

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, "request handling failed");
      if (!response.headersSent) {
        sendJson(response, 500, {
          errors: [{ message: "Internal error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }],
        });
      } else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = splitTarget(request.url ?? "/");
    if (url.pathname === "/healthz") return sendJson(response, 200, { status: "ok" });
    if (url.pathname === "/readyz") {
      const ready = await options.isReady().catch(() => false);
      return sendJson(response, ready ? 200 : 503, {
        status: ready ? "ready" : "database unavailable",
      });
    }
    if (url.pathname === "/dbstats" && options.dbStats)
      return sendJson(response, 200, options.dbStats());
    if (url.pathname === "/outbox" && options.outboxStats)
      return sendJson(response, 200, await options.outboxStats());
    if (url.pathname === "/metrics" && options.metrics) {
      const body = await options.metrics();
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      response.end(body);
      return;
    }
    if (url.pathname === "/events" && request.method === "POST" && options.inbox)
      return receiveEvents(
        {
          inbox: options.inbox,
          verifier: options.eventVerifier ?? options.verifier,
          logger,
          maxBodyBytes: maxBody,
          effectWaitMs,
        },
        request,
        response,
      );
    if (streams && url.pathname === streams.path) return streams.handle(request, response);
    if (url.pathname !== "/graphql") return sendJson(response, 404, { error: "not found" });

    const requestId = (request.headers["x-request-id"] as string | undefined) ?? randomUUID();
    const started = performance.now();
    let notable = false;
    response.once("finish", () => {
      const ms = Math.round(performance.now() - started);
      // The gateway logs every client request at info with this request id. A subgraph call has
      // its own info line when it is worth reading alone — it changed something, failed, answered
      // errors or was slow — and a debug line otherwise: five info lines per hub query cost the
      // subgraphs ~0.2 ms of CPU per query (docs/performance.md).
      const level = notable || response.statusCode >= 400 || ms >= SLOW_CALL_MS ? "info" : "debug";
      logger[level]({ requestId, status: response.statusCode, ms }, "request");
    });
    const caller = await verifiedCaller(options.verifier, request, response);
    if (!caller) return;
    let raw: string;
    try {
      raw = (await readBody(request, maxBody)).toString("utf8");
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        return sendJson(
          response,
          413,
          errorBody(new HubError("QUERY_TOO_COMPLEX", "The request body is too large.")),
        );
      }
      throw error;
    }
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined;
    } catch {
      return sendJson(
        response,
        400,
        errorBody(new HubError("BAD_USER_INPUT", "The request body is not valid JSON.")),
      );
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (typeof value === "string") headers.set(key, value);
      else if (Array.isArray(value)) headers.set(key, value.join(", "));
    }
    // Mutation fields run inside this scope (buildFederatedSchema wraps them); reads leave it empty.
    const effects = new EffectScope();
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method ?? "POST", headers, search: url.search, body },
      context: async () => options.createContext(caller, requestId, effects),
    });
    // Contract v2: the answer leaves once its effects arrived in the other subgraphs, or the wait
    // ran out (then it says which are pending; the relay delivers them).
    const pending = await settleEffects(effects.deliveries, effectWaitMs);
    notable =
      effects.wrote ||
      (result.body.kind === "complete" && result.body.string.includes('"errors":'));
    for (const [key, value] of result.headers) response.setHeader(key, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === "complete") {
      response.end(withPendingEffects(result.body.string, pending));
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}/graphql`;
  logger.info({ url }, `${options.name} subgraph listening`);

  return {
    url,
    async stop() {
      // Open streams never go idle: ended first, or closing would wait for their grace period.
      await streams?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a bounded grace period, then their connections are cut.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await apollo.stop();
    },
  };
}
