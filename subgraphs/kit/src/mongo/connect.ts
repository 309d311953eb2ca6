import { MongoClient, type CommandStartedEvent, type Db } from "mongodb";

export interface MongoConnectOptions {
  /** Called for every command the driver sends; tests use it to count round trips. */
  onCommand?: (event: CommandStartedEvent) => void;
  /** How long an operation may wait for a reachable server before failing. */
  serverSelectionTimeoutMS?: number;
}

/** Hides credentials of a connection string before it is shown to anyone. */
export function redactMongoUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, "//***@");
}

/**
 * Connects and pings, so an unreachable database is reported at start-up, not at the first
 * request. Timeouts are bounded: a request against a lost database fails quickly instead of
 * hanging.
 */
export async function connectMongo(
  uri: string,
  options: MongoConnectOptions = {},
): Promise<MongoClient> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3_000,
    connectTimeoutMS: 3_000,
    socketTimeoutMS: 10_000,
    monitorCommands: Boolean(options.onCommand),
    appName: "card-status-hub",
    // The embedded server breaks the streaming (moreToCome) heartbeat under load ("Server ended
    // moreToCome unexpectedly" clears the pool); polling heartbeats work on it and on MongoDB.
    serverMonitoringMode: "poll",
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

export function isDuplicateKeyError(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === 11000
  );
}

export type { Db, MongoClient };
