import { randomUUID } from "node:crypto";
import type { GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import { HubError, isErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import { isDatabaseUnavailable } from "../mongo/transient-errors.js";

/** Codes that GraphQL/Apollo itself produces for bad requests; their messages are safe. */
const REQUEST_ERROR_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

/**
 * What a subgraph lets out of an error: the message and a stable code, nothing else. Unexpected
 * errors are logged here with a correlation id, and only that id leaves the process.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const where = { path: formatted.path, locations: formatted.locations };
    if (original instanceof HubError) {
      const { http: _http, ...extensions } = original.extensions;
      return { message: original.message, ...where, extensions };
    }
    if (isDatabaseUnavailable(original)) {
      logger.warn({ err: original }, "database unavailable");
      return {
        message: "The service's database is unavailable; try again shortly.",
        ...where,
        extensions: { code: "SERVICE_UNAVAILABLE" },
      };
    }
    const code = formatted.extensions?.["code"];
    if (typeof code === "string" && (REQUEST_ERROR_CODES.has(code) || isErrorCode(code))) {
      return { message: formatted.message, ...where, extensions: { code } };
    }
    const correlationId = randomUUID();
    logger.error({ err: original, correlationId }, "unexpected error");
    return {
      message: `Internal error (correlation id ${correlationId}).`,
      ...where,
      extensions: { code: "INTERNAL_SERVER_ERROR", correlationId },
    };
  };
}
