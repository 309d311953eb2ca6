import { Webhook } from "standardwebhooks";
import type { LogEntry } from "./card-event-source.js";

/** The Standard Webhooks headers of one delivery attempt. */
export interface WebhookHeaders {
  /** The event's id: the same on every retry, so the receiver deduplicates on it. */
  "webhook-id": string;
  /** When this attempt was signed, in Unix seconds (receivers refuse ones 5 minutes off). */
  "webhook-timestamp": string;
  /** `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per signing secret, space-separated. */
  "webhook-signature": string;
}

/**
 * The thin body of a delivery: what changed and where to read more, no personal data (no
 * identity number, name or account number: the receiver asks the hub, under its own scopes).
 * Built field by field from the entry, so a field added to the log never leaks here unnoticed.
 * `timestamp` is when the change happened, as the specification's payload structure has it: the
 * body is the same on every retry, only the headers' timestamp moves.
 */
export function webhookBody(entry: LogEntry): string {
  const occurredAt = entry.occurredAt.toISOString();
  return JSON.stringify({
    type: entry.type,
    timestamp: occurredAt,
    data: {
      eventId: entry.eventId,
      cursor: entry.cursor,
      cardId: entry.cardId,
      personId: entry.personId,
      type: entry.type,
      statusBefore: entry.statusBefore,
      statusAfter: entry.statusAfter,
      occurredAt,
      channel: entry.channel,
    },
  });
}

/**
 * Signs one attempt with every secret that signs now (the current one, and the previous during a
 * rotation's overlap), with the standardwebhooks library: no hand-written HMAC.
 */
export function signedHeaders(
  eventId: string,
  at: Date,
  body: string,
  secrets: readonly string[],
): WebhookHeaders {
  if (secrets.length === 0) throw new Error("a delivery needs at least one signing secret");
  // Whole seconds, signed and sent alike (the library floors the same way).
  const timestamp = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return {
    "webhook-id": eventId,
    "webhook-timestamp": String(timestamp.getTime() / 1000),
    "webhook-signature": secrets
      .map((secret) => new Webhook(secret).sign(eventId, timestamp, body))
      .join(" "),
  };
}
