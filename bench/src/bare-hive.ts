/**
 * A bare Hive Gateway (no plugins of ours) for bench/src/attribution.ts. BARE_RUNTIME=router uses
 * the Rust query planner runtime as ours does; otherwise Hive's default (stitching) runtime.
 */
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";
import { unifiedGraphHandler } from "@graphql-hive/router-runtime";
import httpTransport from "@graphql-mesh/transport-http";
const urls = JSON.parse(process.env["SUBGRAPH_URLS"] ?? "{}") as Record<string, string>;
const sdl = await readFile(process.env["SUPERGRAPH_PATH"] ?? "", "utf8");
const runtime = createGatewayRuntime({
  supergraph: () => sdl,
  ...(process.env["BARE_RUNTIME"] === "router" ? { unifiedGraphHandler } : {}),
  transports: { http: httpTransport },
  transportEntries: Object.fromEntries(Object.entries(urls).map(([n, u]) => [n, { location: u }])),
  logging: false,
  landingPage: false,
  graphiql: false,
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get("authorization"),
    }),
  },
});
createServer(runtime).listen(Number(process.env["PORT"] ?? 4603), "127.0.0.1", () =>
  console.log("bare hive listening"),
);
