import { connectMongo, type MongoClient } from "@hub/kit";
import { startReplicaTopology, type ReplicaTopology } from "@hub/harness/replicas";
import { afterAll, beforeAll } from "vitest";
import { TEST_SECRET } from "./hub.js";

/** The replicas topology a test file shares, with a client on its database. */
export interface TestTopology {
  topology: ReplicaTopology;
  client: MongoClient;
}

/**
 * Starts the replicas topology (harness/src/replica-topology.ts: two gateways and two replicas of
 * every subgraph behind HAProxy, one database) in a `beforeAll` of the calling file, on
 * TEST_MONGODB_URI or an embedded database, with databases named `<prefix><time>_…`; stops it in
 * an `afterAll`. It takes about a minute to start: one per file.
 */
export function useReplicaTopology(options: {
  prefix: string;
  /** Seed the demo data (default); off when the tests make what they need. */
  seed?: boolean;
  startTimeoutMs?: number;
}): () => TestTopology {
  let topology: ReplicaTopology | undefined;
  let client: MongoClient | undefined;
  beforeAll(async () => {
    topology = await startReplicaTopology({
      secret: TEST_SECRET,
      mongoUri: process.env["TEST_MONGODB_URI"],
      dbPrefix: `${options.prefix}${Date.now().toString(36)}`,
      ...(options.seed === false ? { seed: false } : {}),
    });
    client = await connectMongo(topology.mongoUri);
  }, options.startTimeoutMs ?? 240_000);
  afterAll(async () => {
    await client?.close();
    await topology?.stop();
  }, 60_000);
  return () => {
    if (!topology || !client)
      throw new Error(
        "useReplicaTopology: the topology starts in beforeAll; use it in a hook or a test",
      );
    return { topology, client };
  };
}
