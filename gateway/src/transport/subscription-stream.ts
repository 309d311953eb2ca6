import stockHttpTransport from "@graphql-mesh/transport-http";
import type { ExecutionRequest, Executor } from "@graphql-tools/utils";

/** What Hive Gateway hands a transport for a subgraph (the stock HTTP transport's payload). */
export type SubgraphPayload = Parameters<typeof stockHttpTransport.getSubgraphExecutor>[0];

/**
 * Where a subgraph streams its subscriptions, from its transport entry's `subscriptions.location`
 * (relative to its /graphql); null when it serves none.
 */
export function subscriptionLocation(payload: SubgraphPayload): string | null {
  const entry = payload.transportEntry;
  const subscriptions = entry.options?.subscriptions;
  if (!subscriptions || !entry.location) return null;
  return new URL(subscriptions.location ?? entry.location, entry.location).toString();
}

/**
 * Subscription operations of one subgraph, streamed over GraphQL over SSE by Hive's own HTTP
 * executor (`@graphql-mesh/transport-http`, which reads `text/event-stream` answers): the hub's
 * transport posts JSON and has no stream reader of its own. The caller's identity and trace
 * headers go with each subscription as they go with every call of the hub's transport (through
 * the executor's `extensions.headers`, the mechanism the gateway's propagateHeaders option uses).
 */
export function subscriptionExecutor(
  payload: SubgraphPayload,
  location: string,
  forwarded: readonly string[],
): Executor {
  const entry = payload.transportEntry;
  const stream = stockHttpTransport.getSubgraphExecutor({
    ...payload,
    transportEntry: {
      ...entry,
      location,
      // POST: the document and variables stay out of URLs (and access logs).
      options: { ...entry.options, method: "POST", subscriptions: undefined },
    },
  });
  const executor = (request: ExecutionRequest) => {
    const client = (request.context as { request?: Request } | undefined)?.request?.headers;
    const headers: Record<string, string> = {};
    for (const name of forwarded) {
      const value = client?.get(name);
      if (value != null) headers[name] = value;
    }
    return stream({ ...request, extensions: { ...request.extensions, headers } });
  };
  return Object.assign(executor as Executor, {
    [Symbol.asyncDispose]: () => stream[Symbol.asyncDispose](),
  });
}
