import type { IncomingMessage, ServerResponse } from "node:http";
import type { GraphQLFormattedError } from "graphql";
import type { Caller } from "../auth/caller.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { Logger } from "../logger.js";

/**
 * Where a subgraph serves its subscriptions, beside `/graphql`: the gateway sends subscription
 * operations there (GraphQL over SSE), and everything else to `/graphql` (Apollo Server has no
 * subscription transport of its own).
 */
export const SUBSCRIPTIONS_PATH = "/graphql/stream";

/** What the kit hands a subgraph's stream endpoint: the same checks and context as /graphql. */
export interface StreamTools<TContext> {
  verifier: TokenVerifier;
  /** A fresh request context for a verified caller (its clock fixed at the call). */
  createContext: (caller: Caller, requestId: string) => TContext;
  /** The subgraph's error formatter: only HubError messages and stable codes leave. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  logger: Logger;
}

/** A long-lived endpoint of a subgraph's server (the feed's GraphQL over SSE). */
export interface StreamEndpoint {
  path: string;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** Ends every open stream, so the server stops without waiting for clients to leave. */
  stop(): Promise<void>;
}

/** Builds a subgraph's stream endpoint once its server knows how to check callers. */
export type StreamEndpointFactory<TContext> = (tools: StreamTools<TContext>) => StreamEndpoint;
