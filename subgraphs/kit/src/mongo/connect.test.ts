import { createServer } from "node:net";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientOptionsFor, connectMongo } from "./connect.js";
import { startEmbeddedMongo, type EmbeddedMongo } from "./embedded-mongo.js";

/** The driver's default wait for a server (longer than an election, 10–12 s). */
const DRIVER_DEFAULT_SELECTION_MS = 30_000;

describe("clientOptionsFor: the settings of the client the hub runs on", () => {
  it("a replica set (production) waits out an election: the driver's 30 s or longer, never the probe's 3 s; majority writes, retried writes and reads", () => {
    const options = clientOptionsFor(false);
    const selection = options.serverSelectionTimeoutMS;
    if (selection !== undefined) expect(selection).toBeGreaterThanOrEqual(30_000);
    expect(options.writeConcern).toEqual({ w: "majority" });
    expect(options.retryWrites).toBe(true);
    expect(options.retryReads).toBe(true);
    expect(options.readPreference).toBe("primary");
    // The embedded server's work-arounds stay off production.
    expect(options.serverMonitoringMode).toBeUndefined();
    expect(options.socketTimeoutMS).toBeUndefined();
  });

  it("an explicit wait is the caller's (tests); the embedded server keeps its 3 s and polling heartbeats", () => {
    expect(clientOptionsFor(false, { serverSelectionTimeoutMS: 45_000 })).toMatchObject({
      serverSelectionTimeoutMS: 45_000,
      writeConcern: { w: "majority" },
    });
    expect(clientOptionsFor(true)).toMatchObject({
      serverSelectionTimeoutMS: 3_000,
      connectTimeoutMS: 3_000,
      socketTimeoutMS: 10_000,
      serverMonitoringMode: "poll",
    });
    expect(clientOptionsFor(true, { serverSelectionTimeoutMS: 1_000 })).toMatchObject({
      serverSelectionTimeoutMS: 1_000,
    });
  });
});

describe("connectMongo", () => {
  let mongo: EmbeddedMongo | null = null;
  let uri = "";
  const clients: MongoClient[] = [];
  beforeAll(async () => {
    uri = process.env["TEST_MONGODB_URI"] ?? (mongo = await startEmbeddedMongo()).uri;
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await mongo?.stop();
  });

  it("on a production server returns a fresh client with production timeouts and closes the probe", async () => {
    let probe: MongoClient | null = null;
    let probeClosed = false;
    const client = await connectMongo(uri, {}, async (asked) => {
      probe = asked;
      asked.on("topologyClosed", () => (probeClosed = true));
      // Whatever the server is, take the production branch (no real replica set here).
      return false;
    });
    clients.push(client);
    expect(client).not.toBe(probe);
    expect(probeClosed).toBe(true);
    expect(client.options.serverSelectionTimeoutMS).toBeGreaterThanOrEqual(
      DRIVER_DEFAULT_SELECTION_MS,
    );
    expect(client.options.writeConcern?.w).toBe("majority");
    expect(client.options.retryWrites).toBe(true);
    expect(client.options.retryReads).toBe(true);
    expect(await client.db("admin").command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it.skipIf(process.env["TEST_MONGODB_URI"] !== undefined)(
    "on the embedded server keeps its short timeouts",
    async () => {
      const client = await connectMongo(uri);
      clients.push(client);
      expect(client.options.serverSelectionTimeoutMS).toBe(3_000);
      expect(client.options.serverMonitoringMode).toBe("poll");
    },
  );

  it("an unreachable database still fails at start-up within seconds, naming it without credentials", async () => {
    const port = await closedPort();
    const started = Date.now();
    await expect(connectMongo(`mongodb://user:secret@127.0.0.1:${port}/`)).rejects.toThrow(
      new RegExp(`^Cannot reach MongoDB at mongodb://\\*\\*\\*@127\\.0\\.0\\.1:${port}/`),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}
