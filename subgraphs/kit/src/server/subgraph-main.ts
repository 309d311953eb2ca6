import { trackCommands, type CommandStatsSnapshot } from "../mongo/command-stats.js";
import type { Db } from "mongodb";
import { createTokenVerifier, type TokenVerifier } from "../auth/token-verifier.js";
import { systemClock, type Clock } from "../clock.js";
import { loadSubgraphEnv } from "../settings/subgraph-env.js";
import { SUBGRAPHS, type SubgraphName } from "../settings/subgraph-urls.js";
import { createLogger, type Logger } from "../logger.js";
import { connectMongo } from "../mongo/connect.js";
import { flushTracing } from "../tracing/state.js";
import { mintDevToken } from "../auth/dev-token.js";
import { EVENTS_SCOPE } from "../events/hub-event.js";
import type { Scope } from "../scopes.js";
import type { RunningServer } from "./subgraph-server.js";

/** What every subgraph needs to start; tests build it themselves, `runSubgraphMain` from env. */
export interface SubgraphDeps {
  db: Db;
  /** How this subgraph's relay reaches other subgraphs' `/events` and proves who it is. */
  events: EventDelivery;
  port: number;
  host?: string;
  /** Verifies callers' tokens at /graphql. */
  verifier: TokenVerifier;
  /** Verifies the relay's service tokens at /events; `verifier` when absent. */
  eventVerifier?: TokenVerifier;
  logger: Logger;
  clock?: Clock;
  /** Database command counts, served at GET /dbstats when given. */
  dbStats?: () => CommandStatsSnapshot;
  /** How long applied-event ids and idempotency records are kept (HUB_RETENTION_HOURS). */
  retentionMs?: number;
  /** How long the passwords subgraph keeps its audit trail (HUB_PASSWORD_AUDIT_RETENTION_DAYS). */
  auditRetentionMs?: number;
}

export interface EventDelivery {
  target: (destination: string) => string | undefined;
  serviceToken: () => Promise<string>;
  /** How often the relay looks for work it was not woken for. */
  pollMs?: number;
  /** How long a request waits for its effects to arrive (HUB_EFFECT_WAIT_MS). */
  effectWaitMs?: number;
  /** Failed applications of an event before it is dead-lettered (HUB_EVENT_MAX_ATTEMPTS). */
  maxAttempts?: number;
}

/** Mints the relay's service token, HS256 with the hub's service secret (HUB_SERVICE_SECRET). */
export function hs256ServiceTokens(secret: string, source: string): () => Promise<string> {
  let cached: { token: string; until: number } | null = null;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    const token = await mintDevToken(secret, {
      sub: `relay:${source}`,
      channel: "NATIONAL_PLATFORM",
      scopes: [EVENTS_SCOPE as Scope],
      expiresIn: "10m",
    });
    cached = { token, until: Date.now() + 5 * 60_000 };
    return token;
  };
}

/** A subgraph's own endpoints (/events, /readyz, /outbox, /dbstats) live beside its /graphql. */
export const siblingUrl = (graphqlUrl: string, path: string): string =>
  graphqlUrl.replace(/\/graphql$/, path);

/** `/events` URLs of the subgraphs, from their GraphQL URLs. */
export function eventTargetsFrom(
  graphqlUrls: Record<string, string | undefined>,
): (destination: string) => string | undefined {
  return (destination) => {
    const url = graphqlUrls[destination];
    return url ? siblingUrl(url, "/events") : undefined;
  };
}

export type StartSubgraph = (deps: SubgraphDeps) => Promise<RunningServer>;

/** The database a subgraph owns: one per subgraph (`hub_cards`, …). */
export function subgraphDatabaseName(prefix: string, subgraph: string): string {
  return `${prefix}_${subgraph.replace(/-/g, "_")}`;
}

/**
 * Process entry of a subgraph: validate configuration, connect, serve, and stop cleanly on
 * SIGTERM/SIGINT. Start-up failures print one line and exit non-zero, never a stack dump.
 */
export async function runSubgraphMain(name: SubgraphName, start: StartSubgraph): Promise<void> {
  const logger = createLogger(name);
  try {
    const env = loadSubgraphEnv(SUBGRAPHS[name].portVariable, SUBGRAPHS[name].defaultPort);
    logger.level = env.LOG_LEVEL;
    // Opt-in count and timing of database commands (benchmarks), served at GET /dbstats.
    const countCommands = env.HUB_COUNT_DB_COMMANDS === "on";
    const client = await connectMongo(env.MONGODB_URI, {
      monitorCommands: countCommands,
      sharedEmbedded: env.HUB_EMBEDDED_SHARED === "on",
    });
    const dbStats = countCommands ? trackCommands(client) : undefined;
    const server = await start({
      db: client.db(subgraphDatabaseName(env.HUB_DB_PREFIX, name)),
      events: {
        target: eventTargetsFrom(env.subgraphUrls),
        serviceToken: hs256ServiceTokens(env.serviceSecret, name),
        effectWaitMs: env.HUB_EFFECT_WAIT_MS,
        maxAttempts: env.HUB_EVENT_MAX_ATTEMPTS,
      },
      port: env.port,
      host: env.HOST,
      verifier: createTokenVerifier({ secret: env.HUB_JWT_SECRET, jwksUrl: env.HUB_JWKS_URL }),
      eventVerifier: createTokenVerifier({ secret: env.serviceSecret }),
      logger,
      clock: systemClock,
      dbStats,
      retentionMs: env.HUB_RETENTION_HOURS * 3_600_000,
      auditRetentionMs: env.HUB_PASSWORD_AUDIT_RETENTION_DAYS * 86_400_000,
    });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping");
      await server.stop().catch((error: unknown) => logger.error({ err: error }, "stop failed"));
      await client.close().catch(() => undefined);
      // The spans of the requests and deliveries it finished while draining.
      await flushTracing();
      process.exit(0);
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
  } catch (error) {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
