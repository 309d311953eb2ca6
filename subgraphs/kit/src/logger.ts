import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Redaction is a second line of defence: secrets are never passed to the
 * logger on purpose, but headers and inputs that might carry them are censored anyway.
 */
export function createLogger(
  name: string,
  level = process.env["LOG_LEVEL"] ?? "info",
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: [
        "authorization",
        "headers.authorization",
        "*.authorization",
        "token",
        "password",
        "*.password",
        "*.currentPassword",
        "*.newPassword",
        "hash",
        "*.hash",
      ],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
