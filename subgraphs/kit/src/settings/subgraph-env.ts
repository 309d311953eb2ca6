import { z } from "zod";
import {
  commonEnv,
  ConfigError,
  describeIssues,
  TOKEN_KEYS_REQUIRED,
  withoutEmptyValues,
} from "./common-env.js";
import { loadSubgraphUrls, port, type SubgraphName } from "./subgraph-urls.js";

export { ConfigError, withoutEmptyValues } from "./common-env.js";

/** Default of HUB_EFFECT_WAIT_MS. */
export const DEFAULT_EFFECT_WAIT_MS = 3_000;
/** Default of HUB_RETENTION_HOURS. */
export const DEFAULT_RETENTION_HOURS = 24;
/** Default of HUB_EVENT_MAX_ATTEMPTS. */
export const DEFAULT_EVENT_MAX_ATTEMPTS = 10;
/** Default of HUB_PASSWORD_AUDIT_RETENTION_DAYS: a year of password changes, resets and locks. */
export const DEFAULT_PASSWORD_AUDIT_RETENTION_DAYS = 365;

export const subgraphEnv = commonEnv
  .extend({
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// or mongodb+srv:// URI"),
    HUB_DB_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, "lower-case letters, digits and _")
      .default("hub"),
    /**
     * Signs and verifies the event relay's deliveries between subgraphs. Needed when callers'
     * tokens come from HUB_JWKS_URL: the hub cannot add its own key to an identity provider's key
     * set. Defaults to HUB_JWT_SECRET.
     */
    HUB_SERVICE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    /** How long a mutation waits for its effects in other subgraphs before it answers. */
    HUB_EFFECT_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_EFFECT_WAIT_MS),
    /** How long applied-event ids and idempotency records are kept before the sweep removes them. */
    HUB_RETENTION_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 365)
      .default(DEFAULT_RETENTION_HOURS),
    /**
     * Failed applications of one received event (its receiver answered an error for it) before
     * the sender dead-letters it and the lane moves on. A receiver that is down is not counted.
     */
    HUB_EVENT_MAX_ATTEMPTS: z.coerce
      .number()
      .int()
      .min(1)
      .max(1_000)
      .default(DEFAULT_EVENT_MAX_ATTEMPTS),
    /**
     * How long the passwords subgraph keeps its audit trail (`password_events`: who changed,
     * reset or locked which password, when) before the retention sweep removes it.
     */
    // Whole days, at least one; up to a century (the legal period is the operator's to set).
    HUB_PASSWORD_AUDIT_RETENTION_DAYS: z.coerce
      .number()
      .int()
      .min(1)
      .max(36_500)
      .default(DEFAULT_PASSWORD_AUDIT_RETENTION_DAYS),
    /**
     * Several processes share this embedded database (npm run start:replicas, the replicas tests,
     * npm run chaos): its transactions and the single-document writes beside them then take turns
     * across processes, not only within this one. No effect on a replica set.
     */
    HUB_EMBEDDED_SHARED: z.enum(["on", "off"]).default("off"),
    /** Count and time the database commands, served at GET /dbstats (benchmarks). */
    HUB_COUNT_DB_COMMANDS: z.enum(["on", "off"]).default("off"),
  })
  .refine(TOKEN_KEYS_REQUIRED.check, {
    message: TOKEN_KEYS_REQUIRED.message,
    path: [...TOKEN_KEYS_REQUIRED.path],
  })
  .refine((env) => env.HUB_SERVICE_SECRET || env.HUB_JWT_SECRET, {
    message: "set HUB_SERVICE_SECRET (signs event deliveries between subgraphs) with HUB_JWKS_URL",
    path: ["HUB_SERVICE_SECRET"],
  });

export type SubgraphEnv = z.infer<typeof subgraphEnv> & {
  port: number;
  /** Every subgraph's GraphQL URL (the relay delivers to `/events` beside it). */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  /** HUB_SERVICE_SECRET, or HUB_JWT_SECRET when it is not set (one of them is, see above). */
  serviceSecret: string;
};

/** Reads and validates a subgraph's environment once, at start. */
export function loadSubgraphEnv(
  portVariable: string,
  defaultPort: number,
  env = process.env,
): SubgraphEnv {
  const present = withoutEmptyValues(env);
  const parsed = subgraphEnv.safeParse(present);
  const parsedPort = port.safeParse(present[portVariable] ?? defaultPort);
  let subgraphUrls: Partial<Record<SubgraphName, string>> = {};
  let urlProblem: string | null = null;
  try {
    subgraphUrls = loadSubgraphUrls(present);
  } catch (error) {
    urlProblem = (error as Error).message;
  }
  // A bad port variable is named once, though both checks read it.
  const problems = new Set([
    ...(parsed.success ? [] : describeIssues(parsed.error)),
    ...(parsedPort.success ? [] : [`${portVariable}: must be a port number`]),
    ...(urlProblem ? urlProblem.split("; ") : []),
  ]);
  if (problems.size > 0 || !parsed.success || !parsedPort.success) {
    throw new ConfigError(`Invalid configuration: ${[...problems].join("; ")}`);
  }
  const serviceSecret = parsed.data.HUB_SERVICE_SECRET ?? parsed.data.HUB_JWT_SECRET ?? "";
  return { ...parsed.data, port: parsedPort.data, serviceSecret, subgraphUrls };
}
