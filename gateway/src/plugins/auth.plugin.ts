import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import type { Caller, TokenVerifier } from "@hub/kit";

export interface AuthContext {
  caller?: Caller;
}

/**
 * Every GraphQL request needs a valid token (CONTRACT.md). The same verifier runs again in each
 * subgraph, which receive the original Authorization header, so a subgraph never trusts claims it
 * has not verified itself. Failures are HubErrors: UNAUTHENTICATED with HTTP 401.
 */
export function useHubAuth(verifier: TokenVerifier): GatewayPlugin<AuthContext> {
  return {
    async onContextBuilding({ context, extendContext }) {
      const caller = await verifier(context.request.headers.get("authorization"));
      extendContext({ caller });
    },
  };
}
