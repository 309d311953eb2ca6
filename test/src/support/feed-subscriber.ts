import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { splitOperations } from "@hub/gateway/contract-operations";
import { SCHEMA_DIR } from "@hub/schema";
import { createClient } from "graphql-sse";
import { expect } from "vitest";
import { eventually } from "./eventually.js";
import { graphql, token, type GraphQLResponse } from "./hub.js";

/**
 * A CardEvent as the contract's CardEvents and CardEventLog operations select it (the fields tests
 * read; `holder` only in CardEvents).
 */
export interface CardEventView {
  eventId: string;
  cursor: string;
  type: string;
  occurredAt: string;
  channel: string;
  statusBefore: string | null;
  statusAfter: string | null;
  card: {
    id: string;
    status: string;
    holder?: { id: string; idNumber: string; name: string } | null;
  } | null;
}

/** The contract's feed operations (schema/feed.graphql), by name. */
export async function feedOperation(name: string): Promise<string> {
  const source = await readFile(join(SCHEMA_DIR, "feed.graphql"), "utf8");
  const operation = splitOperations(source).find((op) => op.name === name);
  if (!operation) throw new Error(`no feed operation ${name}`);
  return operation.document;
}

/** One page of the contract's CardEventLog. */
export interface CardEventLogPage {
  cardEventLog: { events: CardEventView[]; endCursor: string | null; hasMore: boolean };
}

/** The contract's CardEventLog through the gateway at `url` (with a test token unless `bearer`). */
export async function cardEventLog(
  url: string,
  variables: Record<string, unknown>,
  bearer?: string,
): Promise<GraphQLResponse<CardEventLogPage>> {
  return graphql<CardEventLogPage>(
    url,
    await feedOperation("CardEventLog"),
    variables,
    bearer ?? (await token()),
  );
}

/** A person's events in the log (after `after`, when given) once it holds at least `count`. */
export async function loggedEvents(
  url: string,
  personId: string,
  count: number,
  options: { after?: string; timeoutMs?: number } = {},
): Promise<CardEventView[]> {
  return eventually(async () => {
    const answer = await cardEventLog(url, { personId, after: options.after, first: 500 });
    expect(answer.errors).toBeUndefined();
    const events = answer.data!.cardEventLog.events;
    expect(events.length).toBeGreaterThanOrEqual(count);
    return events;
  }, options.timeoutMs);
}

/** The one event a subscription has received, once it has (and no error came). */
export function onlyEvent(subscriber: {
  readonly events: CardEventView[];
  readonly errors: unknown[];
}): Promise<CardEventView> {
  return eventually(async () => {
    expect(subscriber.errors).toEqual([]);
    expect(subscriber.events).toHaveLength(1);
    return subscriber.events[0]!;
  });
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
        // Every message with data is an event, with errors or without (its card not completed):
        // a message repeating an earlier event shows here as that event twice.
        if (result.errors) errors.push(...(result.errors as unknown as typeof errors));
        if (result.data) events.push(result.data.cardEvents);
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
