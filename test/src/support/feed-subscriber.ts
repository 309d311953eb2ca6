import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { splitOperations } from "@hub/gateway/contract-operations";
import { SCHEMA_DIR } from "@hub/schema";
import { createClient } from "graphql-sse";

/** A CardEvent as the contract's CardEvents and CardEventLog operations select it. */
export interface CardEventView {
  eventId: string;
  cursor: string;
  type: string;
  occurredAt: string;
  channel: string;
  statusBefore: string | null;
  statusAfter: string | null;
  card: { id: string; status: string; holder?: { id: string } } | null;
}

/** The contract's feed operations (schema/feed.graphql), by name. */
export async function feedOperation(name: string): Promise<string> {
  const source = await readFile(join(SCHEMA_DIR, "feed.graphql"), "utf8");
  const operation = splitOperations(source).find((op) => op.name === name);
  if (!operation) throw new Error(`no feed operation ${name}`);
  return operation.document;
}

export interface FeedSubscriber {
  events: CardEventView[];
  /** Every message as it came (data, errors or both). */
  results: unknown[];
  errors: { message?: string; extensions?: Record<string, unknown> }[];
  /** The stream ended: completed, or failed (its connection cut). */
  readonly ended: boolean;
  close(): void;
}

/**
 * One `CardEvents` subscription with graphql-sse's client (distinct connections, no retries: a
 * test resumes itself, with the last cursor, as a channel would), collecting what arrives.
 */
export function subscribeCardEvents(
  url: string,
  document: string,
  variables: Record<string, unknown>,
  bearer: string,
): FeedSubscriber {
  const client = createClient({
    url,
    headers: { authorization: `Bearer ${bearer}` },
    retryAttempts: 0,
  });
  const events: CardEventView[] = [];
  const results: unknown[] = [];
  const errors: FeedSubscriber["errors"] = [];
  let ended = false;
  const unsubscribe = client.subscribe<{ cardEvents: CardEventView }>(
    { query: document, variables },
    {
      next: (result) => {
        results.push(result);
        // A message with errors is not an event: when the feed replica serving a stream dies,
        // the gateway's last message is the error, carrying the previous event's data again.
        if (result.errors) errors.push(...(result.errors as unknown as typeof errors));
        else if (result.data) events.push(result.data.cardEvents);
      },
      error: (error) => {
        ended = true;
        errors.push(
          Array.isArray(error)
            ? (error[0] as (typeof errors)[number])
            : { message: error instanceof Error ? error.message : String(error) },
        );
      },
      complete: () => {
        ended = true;
      },
    },
  );
  return {
    events,
    results,
    errors,
    get ended() {
      return ended;
    },
    close() {
      unsubscribe();
      client.dispose();
    },
  };
}

/** The samples of a Prometheus text exposition, by metric name (unlabelled ones). */
export async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const [name, value] = line.split(" ");
    if (name && value !== undefined && !name.includes("{")) samples.set(name, Number(value));
  }
  return samples;
}
