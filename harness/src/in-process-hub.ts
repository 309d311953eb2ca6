import { readFile } from "node:fs/promises";
import { startBankAccountsSubgraph } from "@hub/bank-accounts";
import { startCardsSubgraph } from "@hub/cards";
import { loadFeedSettings, startFeedSubgraph } from "@hub/feed";
import {
  loadManifests,
  persistedDocumentsOf,
  splitOperations,
  startGatewayServer,
  type GatewayServerOptions,
  type RunningGateway,
} from "@hub/gateway";
import {
  connectMongo,
  createLogger,
  createTokenVerifier,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  eventTargetsFrom,
  hs256ServiceTokens,
  mintDevToken,
  startEmbeddedMongo,
  subgraphDatabaseName,
  systemClock,
  type Clock,
  type EmbeddedMongo,
  type MongoClient,
  type RunningServer,
  type StartSubgraph,
} from "@hub/kit";
import { startPasswordsSubgraph } from "@hub/passwords";
import { startPersonsSubgraph } from "@hub/persons";
import { SCHEMA_DIR, SUPERGRAPH_PATH } from "@hub/schema";
import { join } from "node:path";
import type { CommandStartedEvent } from "mongodb";
import { seedDemoData } from "./demo/seed-demo.js";
import { unusedPort } from "./ports.js";
import { sandboxExamples, type DemoData } from "./demo/demo-data.js";

export const SUBGRAPH_STARTERS: Record<string, StartSubgraph> = {
  persons: startPersonsSubgraph,
  cards: startCardsSubgraph,
  passwords: startPasswordsSubgraph,
  "bank-accounts": startBankAccountsSubgraph,
  feed: startFeedSubgraph,
};

export interface InProcessHubOptions {
  secret: string;
  /** An external MongoDB; otherwise an embedded server is started (and stopped with the hub). */
  mongoUri?: string;
  /** Database name prefix: tests give each hub its own. */
  dbPrefix?: string;
  seed?: boolean;
  clock?: Clock;
  onCommand?: (event: CommandStartedEvent) => void;
  logLevel?: string;
  /** Gateway settings to override (mode, limits, rate limit, persisted-only). */
  gateway?: Partial<
    Pick<
      GatewayServerOptions,
      | "mode"
      | "limits"
      | "rateLimit"
      | "persistedOnly"
      | "upstreamTimeoutMs"
      | "maxBodyBytes"
      | "maxInFlight"
      | "maxStreams"
      | "metricsToken"
      | "sharedStore"
    >
  >;
  /** Apollo persisted query manifests to trust besides the contract (HUB_PERSISTED_MANIFESTS). */
  manifests?: string[];
  /** Serve the analyst sandbox at GET /graphql, with the contract's operations as tabs (feed's too). */
  sandbox?: boolean;
  /** Subgraph URLs the gateway uses instead of the started ones (tests of slow subgraphs). */
  subgraphUrlOverrides?: Record<string, string>;
  /**
   * The feed's settings (HUB_EVENT_RETENTION_DAYS, HUB_FEED_POLL_MS, HUB_WEBHOOK_*, HUB_MODE for
   * its webhook targets). Development by default: webhooks may reach receivers on loopback, and
   * their secrets are sealed with a key derived from `secret`.
   */
  feedEnv?: Record<string, string>;
  /** Where log lines go (tests read them); standard output otherwise. */
  logDestination?: { write(line: string): void };
}

export interface InProcessHub {
  gateway: RunningGateway;
  subgraphs: Map<string, RunningServer>;
  client: MongoClient;
  mongoUri: string;
  /** Database name prefix: `${dbPrefix}_cards` is the cards subgraph's database. */
  dbPrefix: string;
  demo: DemoData | null;
  stopSubgraph(name: string): Promise<void>;
  /** Stops the embedded database (only when the hub started one). */
  stopDatabase(): Promise<void>;
  /** Starts the embedded database again on the same port (empty: it keeps data in memory only). */
  startDatabase(): Promise<void>;
  startSubgraph(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole hub in one process on free loopback ports: embedded database, demo data, the
 * subgraphs and the gateway. Tests and benchmarks use it; `npm start` runs the same parts as
 * separate processes.
 */
export async function startInProcessHub(options: InProcessHubOptions): Promise<InProcessHub> {
  let embedded: EmbeddedMongo | null = null;
  const mongoUri = options.mongoUri ?? (embedded = await startEmbeddedMongo()).uri;
  const prefix = options.dbPrefix ?? "hub";
  const client = await connectMongo(mongoUri, { onCommand: options.onCommand });
  const demo = options.seed === false ? null : await seedDemoData(client, prefix);
  // As deployed: outside development mode every token must expire within the limit.
  const verifier = createTokenVerifier({
    secret: options.secret,
    maxLifetimeSeconds:
      options.gateway?.mode === "development" ? undefined : DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  });
  const clock = options.clock ?? systemClock;
  const subgraphs = new Map<string, RunningServer>();
  // Every port is chosen before any subgraph starts: a relay needs every destination's address
  // at start (as in a deployment), and a restarted subgraph comes back where it was.
  const ports = new Map<string, number>();
  for (const name of Object.keys(SUBGRAPH_STARTERS)) ports.set(name, await unusedPort());

  const feedSettings = loadFeedSettings({
    HUB_MODE: "development",
    HUB_JWT_SECRET: options.secret,
    ...options.feedEnv,
  });
  const startSubgraph = async (name: string) => {
    const start: StartSubgraph | undefined =
      name === "feed" ? (deps) => startFeedSubgraph(deps, feedSettings) : SUBGRAPH_STARTERS[name];
    if (!start) throw new Error(`unknown subgraph ${name}`);
    const server = await start({
      db: client.db(subgraphDatabaseName(prefix, name)),
      events: {
        target: eventTargetsFrom(
          Object.fromEntries(
            [...ports].map(([subgraph, port]) => [subgraph, `http://127.0.0.1:${port}/graphql`]),
          ),
        ),
        serviceToken: hs256ServiceTokens(options.secret, name),
        pollMs: 100,
      },
      port: ports.get(name) ?? 0,
      verifier,
      logger: createLogger(name, options.logLevel ?? "silent", options.logDestination),
      clock,
    });
    subgraphs.set(name, server);
  };
  for (const name of Object.keys(SUBGRAPH_STARTERS)) await startSubgraph(name);

  const operations = splitOperations(
    await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
  );
  const feedOperations = splitOperations(await readFile(join(SCHEMA_DIR, "feed.graphql"), "utf8"));
  const gateway = await startGatewayServer({
    port: 0,
    persistedDocuments: [
      // As the gateway process does: the feed's operations are trusted documents too.
      ...persistedDocumentsOf([...operations, ...feedOperations]),
      ...(await loadManifests(options.manifests ?? [])),
    ],
    rateLimit: { points: 100_000, windowSeconds: 60 },
    ...options.gateway,
    sandbox: options.sandbox
      ? {
          // As the gateway process does: the feed's operations (CardEvents…) are tabs too.
          operations: [...operations, ...feedOperations],
          examples: demo ? sandboxExamples(demo) : {},
          // As the gateway process does in development (it listens on loopback here).
          developmentToken:
            options.gateway?.mode === "development"
              ? () => mintDevToken(options.secret, { sub: "sandbox-analyst", channel: "COUNTER" })
              : undefined,
        }
      : undefined,
    supergraphSdl: await readFile(SUPERGRAPH_PATH, "utf8"),
    subgraphUrls: {
      ...Object.fromEntries([...subgraphs].map(([name, server]) => [name, server.url])),
      ...options.subgraphUrlOverrides,
    },
    verifier,
    logger: createLogger("gateway", options.logLevel ?? "silent", options.logDestination),
  });

  return {
    gateway,
    subgraphs,
    client,
    mongoUri,
    dbPrefix: prefix,
    demo,
    startSubgraph,
    async stopDatabase() {
      if (!embedded) throw new Error("the hub uses an external database");
      await embedded.stop();
    },
    async startDatabase() {
      embedded = await startEmbeddedMongo({
        port: Number(new URL(mongoUri.replace("mongodb://", "http://")).port),
      });
    },
    async stopSubgraph(name) {
      await subgraphs.get(name)?.stop();
      subgraphs.delete(name);
    },
    async stop() {
      await gateway.stop();
      for (const server of subgraphs.values()) await server.stop();
      await client.close();
      await embedded?.stop();
    },
  };
}
