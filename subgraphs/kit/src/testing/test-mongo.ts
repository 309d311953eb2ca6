import { afterAll, beforeAll } from "vitest";
import { z } from "zod";
import { connectMongo, type MongoClient, type MongoConnectOptions } from "../mongo/connect.js";
import { startEmbeddedMongo, type EmbeddedMongo } from "../mongo/embedded-mongo.js";
import { readSettings } from "../settings/common-env.js";

/**
 * A MongoDB for one test file: TEST_MONGODB_URI when set (a real replica set), otherwise an
 * embedded server started for the file. Connected before the file's tests, closed after them.
 * Returns a getter, since the client exists only once `beforeAll` has run.
 */
/** What the tests read: a MongoDB replica set to run against instead of the embedded server. */
export const testEnv = z.object({
  TEST_MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// or mongodb+srv:// URI")
    .optional(),
});

export function useTestMongo(options: MongoConnectOptions = {}): () => MongoClient {
  let mongo: EmbeddedMongo | null = null;
  let client: MongoClient | null = null;
  beforeAll(async () => {
    const uri = readSettings(testEnv).TEST_MONGODB_URI ?? (mongo = await startEmbeddedMongo()).uri;
    client = await connectMongo(uri, options);
  });
  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });
  return () => {
    if (!client) throw new Error("useTestMongo: the client is connected in beforeAll");
    return client;
  };
}
