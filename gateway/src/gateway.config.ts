import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from "@graphql-hive/gateway-runtime";
import type { Logger, TokenVerifier } from "@hub/kit";
import { useHubAuth, type AuthContext } from "./plugins/auth.plugin.js";
import { createErrorMasker } from "./plugins/mask-errors.js";
import type { NamedOperation } from "./sandbox/contract-operations.js";
import { sandboxOptions, type ExampleVariables } from "./sandbox/sandbox.js";

export interface HubGatewayOptions {
  /** Supergraph SDL (the checked-in schema/supergraph.graphql). */
  supergraphSdl: string;
  /** Subgraph name → URL, overriding the URLs written in the supergraph. */
  subgraphUrls?: Record<string, string>;
  verifier: TokenVerifier;
  logger: Logger;
  /** Per-subgraph fetch timeout in milliseconds. */
  upstreamTimeoutMs?: number;
  /** The analyst sandbox (GraphiQL at GET /graphql); off when absent. */
  sandbox?: { operations: NamedOperation[]; examples: ExampleVariables };
}

/**
 * The hub's gateway: Hive Gateway on the checked-in supergraph, with each cross-cutting concern a
 * named plugin or option here.
 */
export function createHubGateway(options: HubGatewayOptions): GatewayRuntime<AuthContext> {
  const transportEntries = Object.fromEntries(
    Object.entries(options.subgraphUrls ?? {}).map(([name, url]) => [name, { location: url }]),
  );
  return createGatewayRuntime<AuthContext>({
    supergraph: () => options.supergraphSdl,
    transportEntries,
    logging: false,
    landingPage: false,
    ...(options.sandbox ? sandboxOptions(options.sandbox.operations, options.sandbox.examples) : { graphiql: false }),
    healthCheckEndpoint: "/healthz",
    readinessCheckEndpoint: "/readyz",
    // Subgraph names and URLs are internal: errors must not name them.
    subgraphErrors: { subgraphNameProp: false, errorCode: "DOWNSTREAM_SERVICE_ERROR" },
    maskedErrors: { maskError: createErrorMasker(options.logger) },
    upstreamTimeout: () => options.upstreamTimeoutMs ?? 10_000,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => ({
        authorization: request.headers.get("authorization"),
        "x-request-id": request.headers.get("x-request-id"),
      }),
    },
    plugins: () => [useHubAuth(options.verifier) as GatewayPlugin],
  });
}
