import { GraphQLError, type GraphQLErrorOptions } from "graphql";

/**
 * The codes of a request refused on its merits (access, input, the state of the data): nothing
 * was written (CONTRACT.md "Errors").
 */
export const DOMAIN_ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "CHANNEL_NOT_ALLOWED",
  "BAD_USER_INPUT",
  "INVALID_ID_NUMBER",
  "NOT_FOUND",
  "INVALID_TRANSITION",
  "CONFLICT",
  "FACE_MISMATCH",
  "PASSWORD_LOCKED",
] as const;

/** The stable error codes of CONTRACT.md, plus the internal fallback. */
export const ERROR_CODES = [
  ...DOMAIN_ERROR_CODES,
  "QUERY_TOO_COMPLEX",
  "SERVICE_UNAVAILABLE",
  "RATE_LIMITED",
  /** A feed cursor older than the log's retention: resume from a query instead (contract v3). */
  "CURSOR_EXPIRED",
  "INTERNAL_SERVER_ERROR",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
};

/**
 * A domain or access error whose message is safe to show to a caller.
 * Anything thrown that is not a HubError is treated as unexpected and masked.
 */
export class HubError extends GraphQLError {
  constructor(
    code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
    /** Where in the document the error is (validation errors). */
    nodes?: GraphQLErrorOptions["nodes"],
  ) {
    const status = HTTP_STATUS[code];
    super(message, {
      nodes,
      extensions: { ...extra, code, ...(status ? { http: { status } } : {}) },
    });
    this.name = "HubError";
  }

  get code(): ErrorCode {
    return this.extensions["code"] as ErrorCode;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}
