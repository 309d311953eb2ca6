import { MongoClient, type CommandStartedEvent, type Db, type MongoClientOptions } from "mongodb";

export interface MongoConnectOptions {
  /** Called for every command the driver sends; tests use it to count round trips. */
  onCommand?: (event: CommandStartedEvent) => void;
  /** The driver's command events, for listeners added on the client (implied by `onCommand`). */
  monitorCommands?: boolean;
  /**
   * How long an operation may wait for a reachable server before failing. Unset in production:
   * the driver's 30 s outlasts an election; the embedded server's default is 3 s.
   */
  serverSelectionTimeoutMS?: number;
  /**
   * Other processes share this embedded database (HUB_EMBEDDED_SHARED): transactions and the
   * writes beside them then take turns across processes too (transaction-turns.ts). Ignored by a
   * replica set, which needs no turns.
   */
  sharedEmbedded?: boolean;
}

/** Clients on an embedded database that other processes share (`sharedEmbedded`). */
const sharedEmbedded = new WeakSet<MongoClient>();

/** True for a client on an embedded database that other processes share. */
export function isSharedEmbedded(client: MongoClient): boolean {
  return sharedEmbedded.has(client);
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
 * The start-up probe: short, so an unreachable database is reported within seconds at start-up.
 * It only asks which server this is and is closed at once: nothing after start-up runs on it.
 */
const PROBE_OPTIONS: MongoClientOptions = {
  ...REPLICA_SET_OPTIONS,
  serverSelectionTimeoutMS: 3_000,
  // It may be the embedded server, whose streaming heartbeat fails under load ("Server ended
  // moreToCome unexpectedly": `npm run chaos` lost replicas at start-up to it); for a client
  // closed within a second polling costs a replica set nothing.
  serverMonitoringMode: "poll",
};

/**
 * The settings of the client the hub runs on. Pure, so it is tested without a server. On a replica
 * set an explicit `serverSelectionTimeoutMS` is the only timeout set here; otherwise the driver's
 * default (30 s, or the URI's own) applies, which outlasts an election (10–12 s): a 3 s wait
 * would fail every write in the middle of one.
 */
export function clientOptionsFor(
  embedded: boolean,
  options: Pick<MongoConnectOptions, "serverSelectionTimeoutMS"> = {},
): MongoClientOptions {
  if (embedded)
    return {
      ...EMBEDDED_OPTIONS,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3_000,
    };
  return {
    ...REPLICA_SET_OPTIONS,
    ...(options.serverSelectionTimeoutMS !== undefined
      ? { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS }
      : {}),
  };
}

/**
 * Connects and pings, so an unreachable database is reported at start-up, not at the first
 * request. Which settings apply depends on the server: the embedded one is recognised by its
 * build version (a short probe asks, and is closed), everything else is treated as production.
 * The client returned is always a fresh one with those settings, never the probe.
 *
 * @param isEmbedded how the probe tells the embedded server; tests pass `async () => false` to
 *   get the production client from the embedded server.
 */
export async function connectMongo(
  uri: string,
  options: MongoConnectOptions = {},
  isEmbedded: (probe: MongoClient) => Promise<boolean> = isEmbeddedServer,
): Promise<MongoClient> {
  const probe = await open(uri, PROBE_OPTIONS, {});
  let embedded: boolean;
  try {
    embedded = await isEmbedded(probe);
  } finally {
    await probe.close();
  }
  const client = await open(uri, clientOptionsFor(embedded, options), options);
  if (embedded && options.sharedEmbedded) sharedEmbedded.add(client);
  return client;
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
