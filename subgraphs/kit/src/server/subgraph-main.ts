import type { Db } from "mongodb";
import { createTokenVerifier, type TokenVerifier } from "../auth/token-verifier.js";
import { systemClock, type Clock } from "../clock.js";
import { loadSubgraphEnv } from "../config.js";
import { createLogger, type Logger } from "../logger.js";
import { connectMongo } from "../mongo/connect.js";
import type { RunningServer } from "./subgraph-server.js";

/** What every subgraph needs to start; tests build it themselves, `runSubgraphMain` from env. */
export interface SubgraphDeps {
  db: Db;
  port: number;
  host?: string;
  verifier: TokenVerifier;
  logger: Logger;
  clock?: Clock;
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
export async function runSubgraphMain(
  name: string,
  portVariable: string,
  defaultPort: number,
  start: StartSubgraph,
): Promise<void> {
  const logger = createLogger(name);
  try {
    const env = loadSubgraphEnv(portVariable, defaultPort);
    logger.level = env.LOG_LEVEL;
    const client = await connectMongo(env.MONGODB_URI);
    const server = await start({
      db: client.db(subgraphDatabaseName(env.HUB_DB_PREFIX, name)),
      port: env.port,
      host: env.HOST,
      verifier: createTokenVerifier({ secret: env.HUB_JWT_SECRET, jwksUrl: env.HUB_JWKS_URL }),
      logger,
      clock: systemClock,
    });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping");
      await server.stop().catch((error: unknown) => logger.error({ err: error }, "stop failed"));
      await client.close().catch(() => undefined);
      process.exit(0);
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
  } catch (error) {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
