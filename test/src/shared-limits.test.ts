import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  connectSharedStore,
  persistedDocumentsOf,
  splitOperations,
  startGatewayServer,
  type RunningGateway,
} from "@hub/gateway";
import { createLogger, createTokenVerifier } from "@hub/kit";
import { SCHEMA_DIR, SUPERGRAPH_PATH } from "@hub/schema";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "./support/redis.js";
import { postRequest, startTestHub, TEST_SECRET, token, type TestHub } from "./support/hub.js";

const LIMIT = { points: 6, windowSeconds: 60 };
let redis: TestRedis;
let stores: Redis[] = [];
let hub: TestHub;
let second: RunningGateway;

beforeAll(async () => {
  redis = await startRedis();
  stores = [await connectSharedStore(redis.url), await connectSharedStore(redis.url)];
  hub = await startTestHub({ seed: false, gateway: { rateLimit: LIMIT, sharedStore: stores[0] } });
  // A second gateway replica on the same subgraphs and the same shared store.
  const operations = splitOperations(
    await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
  );
  second = await startGatewayServer({
    port: 0,
    supergraphSdl: await readFile(SUPERGRAPH_PATH, "utf8"),
    subgraphUrls: Object.fromEntries([...hub.subgraphs].map(([name, s]) => [name, s.url])),
    verifier: createTokenVerifier({ secret: TEST_SECRET }),
    logger: createLogger("gateway-2", "silent"),
    persistedDocuments: persistedDocumentsOf(operations),
    rateLimit: LIMIT,
    sharedStore: stores[1],
  });
});
afterAll(async () => {
  await second?.stop();
  await hub?.stop();
  for (const store of stores) store.disconnect();
  await redis?.stop();
});

const post = async (url: string, body: unknown, sub: string) =>
  postRequest(url, body, await token({ sub }));

describe("limits shared by every gateway replica (HUB_REDIS_URL, Debian's redis-server)", () => {
  it("the per-subject rate limit counts the requests of both gateways together; another subject is unaffected", async () => {
    const gateways = [hub.gateway.url, second.url];
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT.points + 2; i++)
      statuses.push((await post(gateways[i % 2]!, { query: "{ __typename }" }, "shared-1")).status);
    expect(statuses.slice(0, LIMIT.points)).toEqual(Array(LIMIT.points).fill(200));
    expect(statuses.slice(LIMIT.points)).toEqual([429, 429]);
    expect((await post(second.url, { query: "{ __typename }" }, "shared-2")).status).toBe(200);
  });

  it("a query registered through one gateway runs by its hash alone through the other", async () => {
    const query = `query Shared${Date.now()} { __typename }`;
    const extensions = {
      persistedQuery: { version: 1, sha256Hash: createHash("sha256").update(query).digest("hex") },
    };
    expect(await post(second.url, { extensions }, "apq-1")).toMatchObject({
      code: "PERSISTED_QUERY_NOT_FOUND",
    });
    expect((await post(hub.gateway.url, { query, extensions }, "apq-1")).status).toBe(200);
    expect(await post(second.url, { extensions }, "apq-1")).toMatchObject({
      status: 200,
      data: { __typename: "Query" },
    });
  });

  it("with the shared store gone, each gateway goes on limiting on its own", async () => {
    await redis.stop();
    const query = { query: "{ __typename }" };
    // Each gateway counts only what it served itself: its own limit, then 429, while the other
    // still has its whole allowance for the same subject.
    for (const url of [hub.gateway.url, second.url]) {
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT.points + 1; i++)
        statuses.push((await post(url, query, "after-redis")).status);
      expect(statuses, url).toEqual([...Array<number>(LIMIT.points).fill(200), 429]);
    }
  });
});
