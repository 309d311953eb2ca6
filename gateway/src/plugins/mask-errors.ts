import { randomUUID } from "node:crypto";
import { GraphQLError } from "graphql";
import { isErrorCode, type Logger } from "@hub/kit";

/** Standard codes of the GraphQL engine that clients know; kept as they are. */
const REQUEST_CODES = new Set(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"]);

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
  return null;
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
        extensions: { code, ...safeExtensions(extensions), ...(http ? { http } : {}) },
      });
    }
    const requestLevel =
      graphqlError &&
      !graphqlError.path &&
      (!graphqlError.originalError || asGraphQLError(graphqlError.originalError));
    if (requestLevel && code !== "GATEWAY_TIMEOUT" && code !== "DOWNSTREAM_SERVICE_ERROR") {
      // Raised by the GraphQL server about the request itself (a missing or mistyped variable, an
      // unknown operation name, a malformed body): the message describes the caller's input only.
      const status = http?.status && http.status >= 400 && http.status < 500 ? http.status : 400;
      return new GraphQLError(graphqlError.message, {
        ...options,
        extensions: { code: "BAD_USER_INPUT", http: { status } },
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
      logger.warn({ err: original }, "subgraph unavailable");
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
