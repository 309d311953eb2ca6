import { MongoClient, type CommandStartedEvent, type Db, type MongoClientOptions } from "mongodb";

export interface MongoConnectOptions {
  /** Called for every command the driver sends; tests use it to count round trips. */
  onCommand?: (event: CommandStartedEvent) => void;
  /** The driver's command events, for listeners added on the client (implied by `onCommand`). */
  monitorCommands?: boolean;
  /** How long an operation may wait for a reachable server before failing. */
  serverSelectionTimeoutMS?: number;
}

const monitors = (options: MongoConnectOptions) =>
  Boolean(options.monitorCommands || options.onCommand);

/** Hides credentials of a connection string before it is shown to anyone. */
export function redactMongoUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, "//***@");
}

/**
 * A MongoDB replica set: writes acknowledged by a majority (they survive a failover), reads from
 * the primary (what was just written is read back), and the driver's own timeouts and streaming
 * monitoring, so an election (10–30 s) is waited out instead of failing every request, and slow
 * majority commits or index builds are not cut off by a socket timeout.
 */
const REPLICA_SET_OPTIONS: MongoClientOptions = {
  writeConcern: { w: "majority" },
  readPreference: "primary",
  retryWrites: true,
  retryReads: true,
};

/**
 * The embedded server (jongodb, tests and `npm start` only): it breaks the streaming
 * (moreToCome) heartbeat under load ("Server ended moreToCome unexpectedly" clears the pool), so
 * heartbeats poll; and a lost embedded database should fail requests within seconds.
 */
const EMBEDDED_OPTIONS: MongoClientOptions = {
  serverSelectionTimeoutMS: 3_000,
  connectTimeoutMS: 3_000,
  socketTimeoutMS: 10_000,
  serverMonitoringMode: "poll",
};

/**
 * Connects and pings, so an unreachable database is reported at start-up, not at the first
 * request. Which settings apply depends on the server: the embedded one is recognised by its
 * build version (a short first connection asks), everything else is treated as production.
 */
export async function connectMongo(
  uri: string,
  options: MongoConnectOptions = {},
): Promise<MongoClient> {
  const probe = await open(uri, { ...REPLICA_SET_OPTIONS, serverSelectionTimeoutMS: 3_000 }, {});
  const embedded = await isEmbeddedServer(probe);
  if (!embedded && options.serverSelectionTimeoutMS === undefined && !monitors(options))
    return probe;
  await probe.close();
  return open(
    uri,
    embedded
      ? { ...EMBEDDED_OPTIONS, serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3_000 }
      : {
          ...REPLICA_SET_OPTIONS,
          ...(options.serverSelectionTimeoutMS !== undefined
            ? { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS }
            : {}),
        },
    options,
  );
}

async function open(
  uri: string,
  settings: MongoClientOptions,
  options: MongoConnectOptions,
): Promise<MongoClient> {
  const client = new MongoClient(uri, {
    ...settings,
    monitorCommands: monitors(options),
    appName: "card-status-hub",
  });
  if (options.onCommand) client.on("commandStarted", options.onCommand);
  try {
    await client.connect();
    await client.db("admin").command({ ping: 1 });
  } catch (error) {
    await client.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(`Cannot reach MongoDB at ${redactMongoUri(uri)}: ${reason}`);
  }
  return client;
}

/** True for the embedded jongodb server, recognised by its build version. */
export async function isEmbeddedServer(client: MongoClient): Promise<boolean> {
  const info = await client
    .db("admin")
    .command({ buildInfo: 1 })
    .catch(() => null);
  return String(info?.["version"] ?? "").includes("jongodb");
}

export function isDuplicateKeyError(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === 11000
  );
}

export type { Db, MongoClient };
