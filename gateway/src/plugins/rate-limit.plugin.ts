import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { HubError } from "@hub/kit";
import type { Redis } from "ioredis";
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import { callerOf, type AuthContext } from "./auth.plugin.js";

export interface RateLimit {
  /** Requests allowed per token subject in each window. */
  points: number;
  windowSeconds: number;
}

/**
 * Per token subject (an operator, a bank outlet's system): over the limit the request is refused
 * with RATE_LIMITED, HTTP 429 and Retry-After. With a shared store (HUB_REDIS_URL) the limit
 * holds across every gateway replica; without one it is per process (N replicas: N times this).
 * While Redis does not answer, each process limits on its own.
 */
export function useRateLimit(limit: RateLimit, shared?: Redis): GatewayPlugin<AuthContext> {
  const options = { points: limit.points, duration: limit.windowSeconds };
  const limiter: RateLimiterAbstract = shared
    ? new RateLimiterRedis({
        ...options,
        storeClient: shared,
        keyPrefix: "hub:rate",
        insuranceLimiter: new RateLimiterMemory(options),
      })
    : new RateLimiterMemory(options);
  return {
    async onParams({ request }) {
      const caller = callerOf(request);
      if (!caller) return;
      try {
        await limiter.consume(caller.sub);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new HubError("RATE_LIMITED", `Too many requests; retry in ${retryAfter} s.`, {
          retryAfterSeconds: retryAfter,
          http: { status: 429, headers: { "Retry-After": String(retryAfter) } },
        });
      }
    },
  };
}
