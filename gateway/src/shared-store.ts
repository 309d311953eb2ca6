import { Redis } from "ioredis";
import type { PersistedQueryStore } from "./plugins/persisted-queries.plugin.js";

/**
 * The store all gateway replicas share (HUB_REDIS_URL): the per-subject rate limit and the
 * automatic persisted queries live there, so N gateways behave as one. Reached at start (a wrong
 * address stops the gateway with one line); later outages fall back to per-process limits.
 */
export async function connectSharedStore(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    // A request must not wait for a Redis that is away: fail fast, fall back.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 3_000,
  });
  // A lost connection is retried by the client; its error events must not crash the gateway.
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `HUB_REDIS_URL: cannot reach Redis (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return redis;
}

/**
 * Automatic persisted queries in Redis, each kept for `ttlSeconds` after its last registration
 * (Redis's own memory policy bounds the rest). A Redis that does not answer counts as "not found":
 * the client then sends the query again.
 */
export function redisPersistedQueryStore(redis: Redis, ttlSeconds = 86_400): PersistedQueryStore {
  const key = (hash: string) => `hub:apq:${hash}`;
  return {
    get: async (hash) => (await redis.get(key(hash)).catch(() => null)) ?? undefined,
    set: async (hash, document) => {
      await redis.set(key(hash), document, "EX", ttlSeconds).catch(() => undefined);
    },
  };
}
