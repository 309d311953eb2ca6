import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, createTokenVerifier, mintDevToken } from "@hub/kit";
import { flushTracing } from "@hub/kit/tracing";
import { loadGatewayEnv, queryLimitsOf } from "./gateway-env.js";
import { memoryPersistedQueryStore } from "./plugins/persisted-queries.plugin.js";
import { loadManifests, persistedDocumentsOf } from "./persisted-documents.js";
import { splitOperations } from "./sandbox/contract-operations.js";
import { isLoopbackHost } from "./sandbox/sandbox.js";
import { connectSharedStore } from "./shared-store.js";
import { startGatewayServer } from "./server.js";

const schemaDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "schema");
const logger = createLogger("gateway");

try {
  const env = loadGatewayEnv();
  logger.level = env.LOG_LEVEL;
  const supergraphSdl = await readFile(
    env.HUB_SUPERGRAPH_PATH ?? join(schemaDir, "supergraph.graphql"),
    "utf8",
  );
  const operations = splitOperations(await readFile(join(schemaDir, "operations.graphql"), "utf8"));
  // The feed's operations (contract v3) are sandbox tabs too: an analyst runs CardEvents there.
  const feedOperations = splitOperations(await readFile(join(schemaDir, "feed.graphql"), "utf8"));
  const secret = env.HUB_JWT_SECRET;
  const sandbox =
    env.HUB_SANDBOX === "on"
      ? {
          operations: [...operations, ...feedOperations],
          examples: env.HUB_SANDBOX_EXAMPLES
            ? (JSON.parse(env.HUB_SANDBOX_EXAMPLES) as Record<string, Record<string, unknown>>)
            : {},
          // Development on loopback only: the page comes with a token, as `npm start` prints one.
          developmentToken:
            env.HUB_MODE === "development" && isLoopbackHost(env.HOST) && secret
              ? () => mintDevToken(secret, { sub: "sandbox-analyst", channel: "COUNTER" })
              : undefined,
        }
      : undefined;
  const sharedStore = env.HUB_REDIS_URL ? await connectSharedStore(env.HUB_REDIS_URL) : undefined;
  const server = await startGatewayServer({
    port: env.PORT,
    host: env.HOST,
    supergraphSdl,
    subgraphUrls: env.subgraphUrls,
    verifier: createTokenVerifier({
      secret: env.HUB_JWT_SECRET,
      jwksUrl: env.HUB_JWKS_URL,
      // Production: every token expires, within the limit (development tokens may not).
      maxLifetimeSeconds:
        env.HUB_MODE === "production" ? env.HUB_MAX_TOKEN_LIFETIME_SECONDS : undefined,
    }),
    logger,
    upstreamTimeoutMs: env.HUB_UPSTREAM_TIMEOUT_MS,
    maxInFlight: env.HUB_MAX_IN_FLIGHT,
    maxStreams: env.HUB_MAX_STREAMS,
    wsPingMs: env.HUB_WS_PING_MS,
    mode: env.HUB_MODE,
    metricsToken: env.HUB_METRICS_TOKEN,
    persistedDocuments: [
      // The feed's operations too: a channel on persisted-only subscribes with CardEvents' hash.
      ...persistedDocumentsOf([...operations, ...feedOperations]),
      ...(await loadManifests(
        (env.HUB_PERSISTED_MANIFESTS ?? "")
          .split(",")
          .map((path) => path.trim())
          .filter(Boolean),
      )),
    ],
    ...(sharedStore
      ? { sharedStore }
      : { persistedQueryStore: memoryPersistedQueryStore(env.HUB_APQ_MAX_ENTRIES) }),
    limits: queryLimitsOf(env),
    persistedOnly: env.HUB_PERSISTED_ONLY === "on",
    rateLimit: { points: env.HUB_RATE_LIMIT_PER_MINUTE, windowSeconds: 60 },
    sandbox,
  });
  logger.info({ url: server.url }, "gateway listening");
  // Hive Gateway's own signal handler only disposes the runtime; this one also closes the
  // HTTP server (finishing in-flight requests, bounded) and exits.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    server.stop().then(
      async () => {
        sharedStore?.disconnect();
        // The spans of the requests it finished while draining.
        await flushTracing();
        process.exit(0);
      },
      async () => {
        await flushTracing();
        process.exit(1);
      },
    );
  };
  process.prependListener("SIGTERM", () => stop("SIGTERM"));
  process.prependListener("SIGINT", () => stop("SIGINT"));
} catch (error) {
  process.stderr.write(`gateway: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
