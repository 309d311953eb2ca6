import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import type { Caller, TokenVerifier } from "@hub/kit";

export interface AuthContext {
  caller?: Caller;
}

const callers = new WeakMap<Request, Caller>();

/** The verified caller of a request (set by useAuth as soon as the request's parameters are read). */
export function callerOf(request: Request): Caller | undefined {
  return callers.get(request);
}

/**
 * Every GraphQL request needs a valid token (CONTRACT.md). It is verified once, before the
 * document is parsed or validated, so every later step (limits, introspection policy, persisted
 * documents) knows the caller. The same verifier runs again in each subgraph, which receives the
 * original Authorization header: a subgraph never trusts claims it has not verified itself.
 * Failures are HubErrors: UNAUTHENTICATED with HTTP 401.
 */
export function useAuth(verifier: TokenVerifier): GatewayPlugin<AuthContext> {
  return {
    async onParams({ request }) {
      callers.set(request, await verifier(request.headers.get("authorization")));
    },
    onContextBuilding({ context, extendContext }) {
      extendContext({ caller: callers.get(context.request) });
    },
  };
}
