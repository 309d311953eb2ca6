import { z } from "zod";

/** Thrown for bad configuration: its message names every bad variable, on one line. */
export class ConfigError extends Error {}

/** Default of HUB_TRACE_SAMPLE_RATIO: every trace, once an operator has set HUB_OTLP_ENDPOINT. */
export const DEFAULT_TRACE_SAMPLE_RATIO = 1;

/**
 * What every process of the hub reads alike (gateway and subgraphs): how tokens are checked,
 * where it listens, how much it logs, and whether it runs as development or production. Each
 * process's schema extends this one, so a shared setting is declared, defaulted and checked once.
 */
export const commonEnv = z.object({
  /** HS256 tokens (development, or a deployment without an identity provider). */
  HUB_JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** RS256/ES256 tokens from an identity provider's key set (takes precedence). */
  HUB_JWKS_URL: z.url().optional(),
  HOST: z.string().default("127.0.0.1"),
  /**
   * `development`: introspection and field suggestions for all, webhooks may reach loopback;
   * `production` (the default): neither, and tokens must expire.
   */
  HUB_MODE: z.enum(["development", "production"]).default("production"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * Where this process sends its OpenTelemetry traces over OTLP/HTTP (a collector's base URL,
   * `/v1/traces` is added). Unset: tracing is off and costs nothing (kit src/tracing/start.ts).
   */
  HUB_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
    .optional(),
  /** Share of new traces recorded (0..1); a request or event that comes with a trace follows it. */
  HUB_TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(DEFAULT_TRACE_SAMPLE_RATIO),
});

/** A token must be checkable: by the shared secret or by the identity provider's key set. */
export const TOKEN_KEYS_REQUIRED = {
  check: (env: { HUB_JWT_SECRET?: string | undefined; HUB_JWKS_URL?: string | undefined }) =>
    Boolean(env.HUB_JWT_SECRET || env.HUB_JWKS_URL),
  message: "set HUB_JWT_SECRET (development) or HUB_JWKS_URL (production)",
  path: ["HUB_JWT_SECRET"],
} as const;

/**
 * The environment without its empty variables: `VAR=` (a compose file, a shell export) means
 * "not set", so a default or an alternative applies instead of a length or URL check failing.
 */
export function withoutEmptyValues(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
}

/** One line naming each bad variable: what every process prints when its settings are bad. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join(".") || "env"}: ${issue.message}`);
}

/**
 * Reads `env` (empty values unset) through `schema` once, at start: the settings, or a
 * ConfigError naming every bad one.
 */
export function readSettings<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(withoutEmptyValues(env));
  if (!parsed.success)
    throw new ConfigError(`Invalid configuration: ${describeIssues(parsed.error).join("; ")}`);
  return parsed.data;
}

/** The variables a settings schema declares (the documentation lists exactly these). */
export function variablesOf(schema: z.ZodType): string[] {
  let inner: z.ZodType = schema;
  // A refined object keeps its shape underneath.
  while (!(inner instanceof z.ZodObject)) {
    const def = (inner as unknown as { def?: { in?: z.ZodType; innerType?: z.ZodType } }).def;
    const next = def?.in ?? def?.innerType;
    if (!next) throw new Error("not an object schema");
    inner = next;
  }
  return Object.keys((inner as z.ZodObject).shape);
}
