import {
  commonEnv,
  ConfigError,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  describeIssues,
  loadSubgraphUrls,
  TOKEN_KEYS_REQUIRED,
  withoutEmptyValues,
  type SubgraphName,
} from "@hub/kit";
import { z } from "zod";
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from "./plugins/query-limits.plugin.js";
import { DEFAULT_MAX_STREAMS } from "./open-streams.js";
import { DEFAULT_WS_PING_MS } from "./websocket.js";

export const gatewayEnv = commonEnv
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HUB_SUPERGRAPH_PATH: z.string().optional(),
    HUB_SANDBOX: z.enum(["on", "off"]).default("on"),
    HUB_SANDBOX_EXAMPLES: z.string().optional(),
    HUB_PERSISTED_ONLY: z.enum(["on", "off"]).default("off"),
    HUB_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
    HUB_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    HUB_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    HUB_MAX_IN_FLIGHT: z.coerce.number().int().positive().default(128),
    /** Subscription streams (SSE responses, WebSocket connections) open at once. */
    HUB_MAX_STREAMS: z.coerce.number().int().positive().default(DEFAULT_MAX_STREAMS),
    /**
     * How often each WebSocket connection is pinged; one that has not answered the previous ping
     * is terminated. Idle subscriptions outlive proxies' idle timeouts (as SSE's 12 s pings do).
     */
    HUB_WS_PING_MS: z.coerce.number().int().positive().default(DEFAULT_WS_PING_MS),
    /** Query limits (QUERY_TOO_COMPLEX beyond them); defaults in query-limits.plugin.ts. */
    HUB_QUERY_MAX_DEPTH: z.coerce.number().int().positive().default(DEFAULT_QUERY_LIMITS.maxDepth),
    HUB_QUERY_MAX_ALIASES: z.coerce
      .number()
      .int()
      .positive()
      .default(DEFAULT_QUERY_LIMITS.maxAliases),
    HUB_QUERY_MAX_DIRECTIVES: z.coerce
      .number()
      .int()
      .positive()
      .default(DEFAULT_QUERY_LIMITS.maxDirectives),
    HUB_QUERY_MAX_TOKENS: z.coerce
      .number()
      .int()
      .positive()
      .default(DEFAULT_QUERY_LIMITS.maxTokens),
    HUB_QUERY_MAX_COST: z.coerce.number().positive().default(DEFAULT_QUERY_LIMITS.maxCost),
    /**
     * Trusted documents besides the contract's: Apollo persisted query manifests (files, or
     * directories of `*.json` manifests), comma-separated.
     */
    HUB_PERSISTED_MANIFESTS: z.string().optional(),
    /** The store all gateway replicas share (rate limit, automatic persisted queries). */
    HUB_REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .optional(),
    /** Automatic persisted queries remembered per gateway process (newest kept). */
    HUB_APQ_MAX_ENTRIES: z.coerce.number().int().positive().default(5_000),
    /** Production mode: the longest a token may be valid for (from its iat), in seconds. */
    HUB_MAX_TOKEN_LIFETIME_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
  })
  .refine(TOKEN_KEYS_REQUIRED.check, {
    message: TOKEN_KEYS_REQUIRED.message,
    path: [...TOKEN_KEYS_REQUIRED.path],
  });

export type GatewayEnv = z.infer<typeof gatewayEnv> & {
  /** Every subgraph's URL, read as every subgraph reads it (kit `loadSubgraphUrls`). */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
};

/** Reads and validates the gateway's environment once; the message names every bad variable. */
export function loadGatewayEnv(env = process.env): GatewayEnv {
  const present = withoutEmptyValues(env);
  const parsed = gatewayEnv.safeParse(present);
  const problems = parsed.success ? [] : describeIssues(parsed.error);
  let subgraphUrls: Partial<Record<SubgraphName, string>> = {};
  try {
    subgraphUrls = loadSubgraphUrls(present);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (!parsed.success || problems.length > 0)
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  return { ...parsed.data, subgraphUrls };
}

/** The query limits a gateway environment sets. */
export function queryLimitsOf(env: GatewayEnv): QueryLimits {
  return {
    maxDepth: env.HUB_QUERY_MAX_DEPTH,
    maxAliases: env.HUB_QUERY_MAX_ALIASES,
    maxDirectives: env.HUB_QUERY_MAX_DIRECTIVES,
    maxTokens: env.HUB_QUERY_MAX_TOKENS,
    maxCost: env.HUB_QUERY_MAX_COST,
  };
}
