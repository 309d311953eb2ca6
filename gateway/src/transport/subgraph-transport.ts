import {
  createGraphQLError,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
} from "@graphql-tools/utils";
import { GraphQLError, Kind, print, type DocumentNode } from "graphql";
import { injectTraceHeaders, traceFieldsOf, tracingStarted } from "@hub/kit/tracing";
import { context } from "@opentelemetry/api";
import { notePendingEffects } from "../plugins/pending-effects.plugin.js";
import { SharedCalls } from "./shared-calls.js";
import { SubgraphCallFailure, SubgraphConnection, type SubgraphAnswer } from "./subgraph-call.js";
import {
  subscriptionExecutor,
  subscriptionLocation,
  type SubgraphPayload,
} from "./subscription-stream.js";

export interface SubgraphTransportOptions {
  /** Deadline of one subgraph call, in milliseconds; an overrun fails with GATEWAY_TIMEOUT. */
  timeoutMs: number;
  /**
   * Client request headers forwarded to every subgraph call that say who is asking. Identical
   * concurrent queries are only shared between requests whose identity headers are equal, so one
   * caller can never receive an answer fetched with another caller's credentials.
   */
  identityHeaders: readonly string[];
  /** Client request headers forwarded for tracing only (not part of what makes calls identical). */
  traceHeaders: readonly string[];
  /** Keep-alive connections per subgraph. */
  connections?: number;
}

/** What Hive Gateway hands a transport for each subgraph (the fields calls read; see below). */
interface SubgraphEntry {
  subgraphName: string;
  transportEntry: { location?: string; options?: { subscriptions?: unknown } };
}

type HubExecutor = Executor & AsyncDisposable;

const printed = new WeakMap<DocumentNode, string>();

/** The query planner reuses a plan's documents across requests: print each once. */
function printOnce(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

function isQuery(request: ExecutionRequest): boolean {
  if (request.operationType) return request.operationType === "query";
  const operation = request.document.definitions.find(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION,
  );
  return operation?.kind === Kind.OPERATION_DEFINITION && operation.operation === "query";
}

function failed(
  code: "GATEWAY_TIMEOUT" | "DOWNSTREAM_SERVICE_ERROR",
  error: Error,
): ExecutionResult {
  return {
    errors: [new GraphQLError(error.message, { extensions: { code }, originalError: error })],
  };
}

interface WireError {
  message?: unknown;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/**
 * A subgraph's answer as a GraphQL result; anything that is not one is a downstream error. Its
 * errors become GraphQLError instances: the gateway maps their paths and the error masker reads
 * their codes (a subgraph's CHANNEL_NOT_ALLOWED must reach the client as it is).
 */
function toResult(answer: SubgraphAnswer, name: string): ExecutionResult {
  let parsed: { data?: unknown; errors?: unknown } | undefined;
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const errors = Array.isArray(parsed?.errors) ? (parsed.errors as WireError[]) : [];
  if (parsed === undefined || parsed === null || (parsed.data == null && errors.length === 0)) {
    return failed(
      "DOWNSTREAM_SERVICE_ERROR",
      new SubgraphCallFailure(
        "bad-answer",
        `The ${name} subgraph answered ${answer.status} without a GraphQL result.`,
      ),
    );
  }
  if (errors.length === 0) return parsed as ExecutionResult;
  return {
    ...(parsed as ExecutionResult),
    errors: errors.map(({ message, path, extensions }) =>
      createGraphQLError(String(message ?? "Subgraph error."), { path, extensions }),
    ),
  };
}

/**
 * The gateway's HTTP transport to subgraphs, in place of `@graphql-mesh/transport-http`.
 *
 * Why: with Hive's HTTP executor the subgraph calls were most of the gateway's CPU per hub query
 * (WHATWG fetch, an abort signal joined per call, promise helpers; bench/src/profile.ts). This one
 * POSTs JSON over undici's keep-alive pool, prints each plan document once, forwards only the
 * headers named in its options, and keeps the two behaviours of Hive's executor the hub relies on:
 * identical concurrent queries share one call (per identity), and every call has a deadline.
 * A subgraph call is not cancelled when its client goes away: a shared call serves other requests,
 * and a mutation already sent should finish rather than be torn mid-way; the deadline bounds both.
 */
export function createSubgraphTransport(options: SubgraphTransportOptions) {
  const traced = tracingStarted();
  return {
    getSubgraphExecutor(payload: SubgraphEntry): HubExecutor {
      const { subgraphName, transportEntry } = payload;
      if (!transportEntry.location) throw new Error(`The ${subgraphName} subgraph has no URL.`);
      const connection = new SubgraphConnection(
        transportEntry.location,
        options.timeoutMs,
        options.connections,
      );
      const shared = new SharedCalls<SubgraphAnswer>();

      const execute = async (request: ExecutionRequest): Promise<ExecutionResult> => {
        const body = JSON.stringify({
          query: printOnce(request.document),
          variables: request.variables,
          operationName: request.operationName,
        });
        const clientRequest = (request.context as { request?: Request } | undefined)?.request;
        const client = clientRequest?.headers;
        // No Accept header: Apollo Server then answers JSON without parsing one per call
        // (negotiator and content-type were ~4% of a subgraph's CPU per call, perf profile), and
        // this transport reads any status code's body alike.
        const headers: Record<string, string> = { "content-type": "application/json" };
        let identity = "";
        for (const name of options.identityHeaders) {
          const value = client?.get(name);
          if (value == null) continue;
          headers[name] = value;
          identity += `${name}:${value}\n`;
        }
        for (const name of options.traceHeaders) {
          const value = client?.get(name);
          if (value != null) headers[name] = value;
        }
        // W3C trace context of this call's span (Hive's `subgraph.execute`, active here): Hive's
        // plugin adds it to calls made with its fetch only. A shared call carries the first
        // caller's; it is not part of what makes calls identical.
        if (traced) injectTraceHeaders(headers);
        // The call's context, active only now (the gateway carries none across awaits): for the
        // log line of a failure (below).
        const at = traced ? context.active() : undefined;
        const post = () => connection.post(body, headers, subgraphName);
        // A read that could not reach a subgraph replica (one stopping, a connection closed under
        // it) is tried once more: the load balancer sends it to another. A mutation is not: it may
        // have been applied.
        const call = isQuery(request)
          ? () =>
              post().catch((error: unknown) => {
                if (error instanceof SubgraphCallFailure && error.kind === "unreachable")
                  return post();
                throw error;
              })
          : post;
        try {
          const answer = isQuery(request)
            ? await shared.run(`${identity}${body}`, call)
            : await call();
          // Each request gets its own parse of a shared answer: the planner writes into results.
          const result = toResult(answer, subgraphName);
          if (!isQuery(request))
            notePendingEffects(clientRequest, result.extensions?.["pendingEffects"]);
          return result;
        } catch (error) {
          if (error instanceof SubgraphCallFailure) {
            const requestId = client?.get("x-request-id");
            return failed(
              error.kind === "timeout" ? "GATEWAY_TIMEOUT" : "DOWNSTREAM_SERVICE_ERROR",
              error.for({ ...(requestId ? { requestId } : {}), ...(at ? traceFieldsOf(at) : {}) }),
            );
          }
          throw error;
        }
      };
      // A subgraph that serves subscriptions (the feed) streams them apart from its calls.
      // Hive hands the whole payload (its fetch, logger…), which the stock executor needs.
      const full = payload as SubgraphPayload;
      const streamAt = subscriptionLocation(full);
      if (!streamAt)
        return Object.assign(execute as Executor, {
          [Symbol.asyncDispose]: () => connection.close(),
        });
      let streams: (Executor & AsyncDisposable) | null = null;
      const hybrid = (request: ExecutionRequest) => {
        if (request.operationType !== "subscription") return execute(request);
        streams ??= subscriptionExecutor(full, streamAt, [
          ...options.identityHeaders,
          ...options.traceHeaders,
        ]) as Executor & AsyncDisposable;
        return streams(request);
      };
      return Object.assign(hybrid as Executor, {
        [Symbol.asyncDispose]: async () => {
          await connection.close();
          await streams?.[Symbol.asyncDispose]();
        },
      });
    },
  };
}
