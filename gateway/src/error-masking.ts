import { randomUUID } from "node:crypto";
import { GraphQLError } from "graphql";
import { isErrorCode, type Logger } from "@hub/kit";
import { SubgraphCallFailure } from "./transport/subgraph-call.js";

/** The GraphQL ecosystem's request codes that clients know (CONTRACT.md); kept as they are. */
const REQUEST_CODES = new Set([
  "BAD_REQUEST",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "PERSISTED_QUERY_NOT_FOUND",
]);

/** Extensions a client may see besides `code`: each is set deliberately by our own code. */
const SAFE_EXTENSIONS = [
  "remedies",
  "correlationId",
  "currentStatus",
  "allowedChannels",
  "retryAfterSeconds",
  "attemptsLeft",
  "lockedUntil",
  "cardStatus",
  "cardId",
  "remedy",
  "field",
];

function safeExtensions(extensions: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of SAFE_EXTENSIONS) if (key in extensions) kept[key] = extensions[key];
  return kept;
}

/**
 * The HTTP part of an error as the client gets it: the status always applies. (The runtime marks
 * its own request errors `spec` and then answers 200 to `Accept: application/json`; CONTRACT.md
 * and GraphQL over HTTP want the 4xx.)
 */
function httpOf(
  http: { status?: number; headers?: Record<string, string> } | undefined,
  status: number,
): { status: number; headers?: Record<string, string> } {
  return { status, ...(http?.headers ? { headers: http.headers } : {}) };
}

function isUnreachable(error: unknown): boolean {
  const text =
    error instanceof Error
      ? `${error.name} ${error.message} ${String((error as { cause?: unknown }).cause ?? "")}`
      : "";
  return /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up|EHOSTUNREACH|ENOTFOUND|other side closed/i.test(
    text,
  );
}

/**
 * Duck-typed, not `instanceof`: the gateway's dependencies may load graphql's CommonJS build while
 * this file loads its ES module build, and each has its own GraphQLError class.
 */
function asGraphQLError(error: unknown): GraphQLError | null {
  if (error instanceof GraphQLError) return error;
  if (
    typeof error === "object" &&
    error !== null &&
    error instanceof Error &&
    "extensions" in error
  ) {
    return error as GraphQLError;
  }
  // A subgraph's error as it came over the wire: the Rust planner passes the errors of a
  // subscription's events on as plain objects (message, path, extensions), not as Errors.
  if (
    typeof error === "object" &&
    error !== null &&
    !(error instanceof Error) &&
    typeof (error as { message?: unknown }).message === "string"
  ) {
    const wire = error as {
      message: string;
      path?: readonly (string | number)[];
      extensions?: Record<string, unknown>;
    };
    return new GraphQLError(wire.message, { path: wire.path, extensions: wire.extensions });
  }
  return null;
}

/** The transport's failure an error stands for, however many times it was wrapped on the way. */
function failureIn(error: unknown): SubgraphCallFailure | undefined {
  for (let at = error, depth = 0; at && depth < 4; depth += 1) {
    if (at instanceof SubgraphCallFailure) return at;
    at = (at as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/**
 * Hive Gateway passes subgraph errors through verbatim (stack, serviceName, subgraph URL), even in
 * production. This keeps only the message and a stable code for errors we know, turns transport
 * failures into SERVICE_UNAVAILABLE, and replaces anything else with a correlation id that is also
 * logged here.
 */
export function createErrorMasker(
  logger: Logger,
  onMasked: (code: string) => void = () => undefined,
) {
  const mask = (error: unknown): GraphQLError => {
    const graphqlError = asGraphQLError(error);
    const original = graphqlError?.originalError ?? error;
    const extensions = (graphqlError?.extensions ?? {}) as Record<string, unknown>;
    const code = extensions["code"];
    const http = extensions["http"] as
      { status?: number; headers?: Record<string, string> } | undefined;
    const options = { path: graphqlError?.path, nodes: graphqlError?.nodes };

    if (
      typeof code === "string" &&
      (isErrorCode(code) || REQUEST_CODES.has(code)) &&
      code !== "INTERNAL_SERVER_ERROR"
    ) {
      return new GraphQLError(graphqlError?.message ?? "Error", {
        ...options,
        extensions: {
          code,
          ...safeExtensions(extensions),
          // Parse and validation errors keep the runtime's own HTTP handling: 400 for
          // `Accept: application/graphql-response+json`, 200 for plain application/json (as
          // GraphQL over HTTP asks). BAD_REQUEST and PERSISTED_QUERY_NOT_FOUND are always 4xx.
          ...(code === "BAD_REQUEST" || code === "PERSISTED_QUERY_NOT_FOUND"
            ? { http: httpOf(http, http?.status ?? 400) }
            : http
              ? { http }
              : {}),
        },
      });
    }
    const requestLevel =
      graphqlError &&
      !graphqlError.path &&
      (!graphqlError.originalError || asGraphQLError(graphqlError.originalError));
    if (requestLevel && code !== "GATEWAY_TIMEOUT" && code !== "DOWNSTREAM_SERVICE_ERROR") {
      // Raised by the GraphQL server about the request itself: the message describes the caller's
      // input only. Not GraphQL over HTTP at all (no query, malformed JSON, a method or content
      // type it does not take; the server gives those an HTTP status) → BAD_REQUEST; a missing or
      // mistyped variable, an unknown operation name → BAD_USER_INPUT.
      const httpLevel = http?.status !== undefined && http.status >= 400 && http.status < 500;
      return new GraphQLError(graphqlError.message, {
        ...options,
        extensions: {
          code: httpLevel ? "BAD_REQUEST" : "BAD_USER_INPUT",
          http: httpOf(http, httpLevel ? http!.status! : 400),
        },
      });
    }
    if (code === "INTERNAL_SERVER_ERROR" && typeof extensions["correlationId"] === "string") {
      // Already logged by the subgraph that failed; pass its correlation id on.
      return new GraphQLError(graphqlError?.message ?? "Internal error.", {
        ...options,
        extensions: { code, correlationId: extensions["correlationId"] },
      });
    }
    if (
      code === "GATEWAY_TIMEOUT" ||
      code === "DOWNSTREAM_SERVICE_ERROR" ||
      isUnreachable(original) ||
      isUnreachable(error)
    ) {
      logger.warn({ err: original, ...failureIn(error)?.logFields }, "subgraph unavailable");
      return new GraphQLError(
        "A part of the hub is unavailable right now; the rest of the answer is complete.",
        {
          ...options,
          extensions: { code: "SERVICE_UNAVAILABLE" },
        },
      );
    }
    const correlationId = randomUUID();
    logger.error({ err: original, correlationId }, "unexpected gateway error");
    return new GraphQLError(`Internal error (correlation id ${correlationId}).`, {
      ...options,
      extensions: { code: "INTERNAL_SERVER_ERROR", correlationId },
    });
  };
  return (error: unknown, _message: string): Error => {
    const masked = mask(error);
    onMasked(String(masked.extensions["code"]));
    return masked;
  };
}
