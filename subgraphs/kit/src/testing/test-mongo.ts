import { afterAll, beforeAll } from "vitest";
import { connectMongo, type MongoClient, type MongoConnectOptions } from "../mongo/connect.js";
import { startEmbeddedMongo, type EmbeddedMongo } from "../mongo/embedded-mongo.js";

/**
 * A MongoDB for one test file: TEST_MONGODB_URI when set (a real replica set), otherwise an
 * embedded server started for the file. Connected before the file's tests, closed after them.
 * Returns a getter, since the client exists only once `beforeAll` has run.
 */
export function useTestMongo(options: MongoConnectOptions = {}): () => MongoClient {
  let mongo: EmbeddedMongo | null = null;
  let client: MongoClient | null = null;
  beforeAll(async () => {
    const uri = process.env["TEST_MONGODB_URI"] ?? (mongo = await startEmbeddedMongo()).uri;
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
