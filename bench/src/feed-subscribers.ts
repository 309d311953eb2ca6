import { createClient } from "graphql-sse";
import { recordedAt, sleep } from "./feed-figures.js";

interface Received {
  eventId: string;
  cursor: string;
  /** The change's time in the producing subgraph (its command's clock, just before its commit). */
  occurredAt: string;
  card: { id: string } | null;
}

/** Each change's latency to its subscriber (ms), by where it is measured from. */
export interface FeedLatencies {
  fromRequest: number[];
  fromAnswer: number[];
  fromLog: number[];
  fromCommit: number[];
  commitToLog: number[];
}

/**
 * The bench's SSE subscribers (graphql-sse's client) on one gateway, each following one person,
 * and what they measure once `measure()` is called: when each card's nth event arrived, its
 * latencies from its commit and its log entry, and errors.
 */
export function feedSubscribers(gateway: string, token: string, subscription: string) {
  const receivedAt = new Map<string, number>();
  const latencies: FeedLatencies = {
    fromRequest: [] as number[],
    fromAnswer: [] as number[],
    fromLog: [] as number[],
    fromCommit: [] as number[],
    commitToLog: [] as number[],
  };
  const receivedByCard = new Map<string, number>();
  /** [commit time, commit → subscriber] of each event: the latency over the run, by window. */
  const commits: [number, number][] = [];
  const errors: unknown[] = [];
  let measuring = false;
  // A connection refused or reset while a thousand open on a loaded machine is tried again (and
  // counted): the figure wanted is the gateway's cost per subscription, not the burst's losses.
  let retries = 0;
  const client = createClient({
    url: gateway,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 5,
    retry: async (attempt) => {
      retries += 1;
      await sleep(500 * 2 ** attempt);
    },
  });
  const subscribe = (personId: string) =>
    client.subscribe<{ cardEvents: Received }>(
      { query: subscription, variables: { personId } },
      {
        next: (result) => {
          const now = Date.now();
          if (result.errors) errors.push(result.errors);
          const event = result.data?.cardEvents;
          if (!measuring || !event?.card) return;
          const n = (receivedByCard.get(event.card.id) ?? 0) + 1;
          receivedByCard.set(event.card.id, n);
          receivedAt.set(`${event.card.id}#${n}`, now);
          const logged = recordedAt(event.cursor);
          const occurred = Date.parse(event.occurredAt);
          latencies.fromLog.push(now - logged);
          latencies.fromCommit.push(now - occurred);
          commits.push([occurred, now - occurred]);
          latencies.commitToLog.push(logged - occurred);
        },
        error: (error) => errors.push(String(error)),
        complete: () => undefined,
      },
    );
  return {
    subscribe,
    receivedAt,
    latencies,
    commits,
    errors,
    get retries() {
      return retries;
    },
    /** Events count from now on (the warm-up's and the connection burst's do not). */
    measure: () => {
      measuring = true;
    },
    dispose: () => client.dispose(),
  };
}
