import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  HubError,
  SUBSCRIPTIONS_PATH,
  type Caller,
  type StreamEndpoint,
  type StreamEndpointFactory,
} from "@hub/kit";
import type { GraphQLError, GraphQLSchema } from "graphql";
import { createHandler } from "graphql-sse/lib/use/http";
import type { FeedContext } from "./context.js";

/** graphql-sse's context type: a record; the feed's context is one, without an index signature. */
type SseContext = Record<PropertyKey, unknown>;

function refusal(error: HubError) {
  return [
    JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] }),
    {
      status: 401,
      statusText: "Unauthorized",
      headers: { "content-type": "application/json; charset=utf-8" },
    },
  ] as const;
}

/**
 * The feed's subscriptions over GraphQL over SSE (graphql-sse, distinct connections mode), beside
 * Apollo Server's /graphql: the gateway sends subscription operations here. Every stream carries
 * the caller's token, verified as /graphql verifies it, and its errors leave as /graphql's do
 * (only HubError messages and stable codes).
 */
export function sseEndpoint(schema: GraphQLSchema): StreamEndpointFactory<FeedContext> {
  return (tools): StreamEndpoint => {
    const callers = new WeakMap<IncomingMessage, Caller>();
    const open = new Set<ServerResponse>();
    const handler = createHandler<SseContext>({
      schema,
      // No stream tokens: each subscription has its own connection, authenticated by its bearer.
      authenticate: async (request) => {
        try {
          callers.set(request.raw, await tools.verifier(request.headers.get("authorization")));
        } catch (error) {
          if (error instanceof HubError) return refusal(error);
          throw error;
        }
        return null;
      },
      context: (request) => {
        const caller = callers.get(request.raw);
        if (!caller) throw new Error("a stream without a verified caller");
        const requestId = request.headers.get("x-request-id") ?? randomUUID();
        // The resolvers read it as the FeedContext it is (see SseContext).
        return tools.createContext(caller, requestId) as unknown as SseContext;
      },
      onNext: (_context, _request, result) => {
        if (!result.errors?.length) return undefined;
        const errors = result.errors.map((error: GraphQLError) =>
          tools.formatError(error.toJSON(), error),
        );
        // Formatted errors are what goes on the wire; graphql-sse types them as GraphQLError.
        return { ...result, errors: errors as unknown as readonly GraphQLError[] };
      },
    });
    return {
      path: SUBSCRIPTIONS_PATH,
      async handle(request, response) {
        open.add(response);
        response.once("close", () => open.delete(response));
        try {
          await handler(request, response);
        } catch (error) {
          tools.logger.error({ err: error }, "subscription stream failed");
          if (!response.headersSent) response.writeHead(500);
          response.end();
        }
      },
      async stop() {
        for (const response of open) response.end();
        open.clear();
      },
    };
  };
}
