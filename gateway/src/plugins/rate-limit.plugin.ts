import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { HubError } from "@hub/kit";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { callerOf, type AuthContext } from "./auth.plugin.js";

export interface RateLimit {
  /** Requests allowed per token subject in each window. */
  points: number;
  windowSeconds: number;
}

/**
 * Per token subject (an operator, a bank outlet's system): over the limit the request is refused
 * with RATE_LIMITED, HTTP 429 and Retry-After. In-memory per gateway process: with N replicas
 * the effective limit is N times this (a shared store is a deployment option of the library).
 */
export function useRateLimit(limit: RateLimit): GatewayPlugin<AuthContext> {
  const limiter = new RateLimiterMemory({ points: limit.points, duration: limit.windowSeconds });
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
