import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);

const subgraphEnv = z
  .object({
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// or mongodb+srv:// URI"),
    HUB_DB_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, "lower-case letters, digits and _")
      .default("hub"),
    HUB_JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    HUB_JWKS_URL: z.url().optional(),
    HOST: z.string().default("127.0.0.1"),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
  })
  .refine((env) => env.HUB_JWT_SECRET || env.HUB_JWKS_URL, {
    message: "set HUB_JWT_SECRET (development) or HUB_JWKS_URL (production)",
    path: ["HUB_JWT_SECRET"],
  });

export type SubgraphEnv = z.infer<typeof subgraphEnv> & { port: number };

/** Thrown for bad configuration: its message names every bad variable, on one line. */
export class ConfigError extends Error {}

function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join(".") || "env"}: ${issue.message}`)
    .join("; ");
}

/** Reads and validates a subgraph's environment once, at start. */
export function loadSubgraphEnv(
  portVariable: string,
  defaultPort: number,
  env = process.env,
): SubgraphEnv {
  const parsed = subgraphEnv.safeParse(env);
  const parsedPort = port.safeParse(env[portVariable] ?? defaultPort);
  const problems = [
    ...(parsed.success ? [] : [describe(parsed.error)]),
    ...(parsedPort.success ? [] : [`${portVariable}: must be a port number`]),
  ];
  if (!parsed.success || !parsedPort.success) {
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  return { ...parsed.data, port: parsedPort.data };
}
