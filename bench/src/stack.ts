import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  connectMongo,
  generateDevSecret,
  mintDevToken,
  startEmbeddedMongo,
  SUBGRAPH_NAMES,
  SUBGRAPHS,
  type EmbeddedMongo,
} from "@hub/kit";
import { splitOperations } from "@hub/gateway";
import { seedDemoData, type DemoData } from "@hub/harness";
import { SCHEMA_DIR, SUPERGRAPH_PATH } from "@hub/schema";
import {
  buildAll,
  bundle,
  REPO_ROOT,
  spawnBundle,
  stopProcess,
  waitForOk,
} from "@hub/harness/processes";

/**
 * What every bench script stands on: the embedded database with the demo data and the five
 * subgraphs as bundled processes. Gateways under test are started by each script.
 */
export const root = REPO_ROOT;

/** The read workloads the bench scripts share. */
export type ReadWorkload = "PersonCards" | "PersonCardsVaried" | "PersonsByIds";

export interface BenchStack {
  secret: string;
  demo: DemoData;
  subgraphUrls: Record<string, string>;
  /** Environment a gateway of ours needs (database, secret, subgraph URLs, quiet logs). */
  gatewayEnv: Record<string, string>;
  token: string;
  /** Request headers of every bench request: JSON, with the bench's token. */
  headers: Record<string, string>;
  /** A contract operation's document by name. */
  document(name: string): string;
  /**
   * Request bodies of a read workload, one per call: PersonCards for the showcase person with
   * duplicates (every request alike), PersonCardsVaried (the next demo person each request),
   * PersonsByIds (the first `ids` demo persons, default 100).
   */
  bodies(workload: ReadWorkload, ids?: number): () => string;
  /**
   * Starts our gateway on `port` as production runs it, with every limit out of the bench's way
   * (`env` adds or overrides settings).
   */
  startOurGateway(port: number, nodeOptions?: string[], env?: Record<string, string>): ChildProcess;
  /** Bundles and starts @apollo/gateway (bench/src/apollo-gateway.ts) on the same subgraphs. */
  startApolloGateway(port: number, nodeOptions?: string[]): Promise<ChildProcess>;
  /** The processes of the stack: each subgraph by name, and `database` (the embedded server). */
  pids: Record<string, number>;
  /** Tracks a process so `stop` ends it. */
  own(child: ChildProcess): ChildProcess;
  stop(): Promise<void>;
}

/** Builds the bundles, starts the database (seeded) and the subgraphs on `firstPort`..+4. */
export async function startBenchStack(options: {
  prefix: string;
  firstPort: number;
  personCount?: number;
  /**
   * Count MongoDB commands (GET /dbstats; default on). The driver's command monitoring costs each
   * subgraph ~0.25 ms of CPU per request (measured with `npm run profile`), so CPU figures are
   * taken without it, as production runs.
   */
  countDbCommands?: boolean;
  /** Node flags for one subgraph (e.g. `--cpu-prof` to profile it). */
  subgraphNodeOptions?: Record<string, string[]>;
  /** Settings every process of the stack gets, gateways too (bench/src/tracing.ts: tracing). */
  env?: Record<string, string>;
}): Promise<BenchStack> {
  await buildAll();
  const children: ChildProcess[] = [];
  const secret = generateDevSecret();
  let mongo: EmbeddedMongo | undefined;
  const stop = async () => {
    for (const child of children.splice(0).reverse()) await stopProcess(child);
    await mongo?.stop();
  };
  try {
    mongo = await startEmbeddedMongo();
    const client = await connectMongo(mongo.uri);
    const demo = await seedDemoData(client, options.prefix, new Date(), options.personCount);
    await client.close();
    // Every subgraph, the status-change feed included: it receives every card event, and without
    // it the others' relays would wait on an address nobody answers and their outboxes never empty.
    const names = SUBGRAPH_NAMES;
    const subgraphUrls = Object.fromEntries(
      names.map((name, i) => [name, `http://127.0.0.1:${options.firstPort + i}/graphql`]),
    );
    const gatewayEnv = {
      MONGODB_URI: mongo.uri,
      HUB_JWT_SECRET: secret,
      HUB_DB_PREFIX: options.prefix,
      // Production mode: the feed seals webhook secrets with a key (the same in every process).
      HUB_WEBHOOK_KEY: randomBytes(32).toString("base64"),
      // Production's level: every request writes a log line (drained, as a log collector would).
      LOG_LEVEL: process.env["BENCH_LOG_LEVEL"] ?? "info",
      ...Object.fromEntries(names.map((n) => [SUBGRAPHS[n].urlVariable, subgraphUrls[n]!])),
      ...options.env,
    };
    const pids: Record<string, number> = mongo.pid ? { database: mongo.pid } : {};
    for (const [i, name] of names.entries()) {
      const child = spawnBundle(
        join(root, "subgraphs", name),
        {
          ...gatewayEnv,
          [SUBGRAPHS[name].portVariable]: String(options.firstPort + i),
          HUB_COUNT_DB_COMMANDS:
            process.env["BENCH_COUNT_DB_COMMANDS"] ??
            (options.countDbCommands === false ? "off" : "on"),
        },
        options.subgraphNodeOptions?.[name] ?? [],
        "drain",
      );
      children.push(child);
      if (child.pid) pids[name] = child.pid;
      await waitForOk(`http://127.0.0.1:${options.firstPort + i}/readyz`, 60_000, child);
    }
    const operations = splitOperations(
      await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
    );
    const token = await mintDevToken(secret, { sub: "bench", channel: "COUNTER", expiresIn: "2h" });
    const document = (name: string) => {
      const found = operations.find((o) => o.name === name);
      if (!found) throw new Error(`no contract operation named ${name}`);
      return found.document;
    };
    const own = (child: ChildProcess) => {
      children.push(child);
      return child;
    };
    const showcase = demo.persons.find((p) => p._id === demo.showcase.duplicates)!;
    return {
      secret,
      demo,
      subgraphUrls,
      gatewayEnv,
      pids,
      token,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      document,
      bodies(workload, ids = 100) {
        const operationName = workload === "PersonsByIds" ? "PersonsByIds" : "PersonCards";
        const query = document(operationName);
        if (workload === "PersonCardsVaried") {
          let next = 0;
          return () =>
            JSON.stringify({
              query,
              operationName,
              variables: { idNumber: demo.persons[next++ % demo.persons.length]!.idNumber },
            });
        }
        const fixed = JSON.stringify({
          query,
          operationName,
          variables:
            workload === "PersonsByIds"
              ? { ids: demo.persons.slice(0, ids).map((p) => p._id) }
              : { idNumber: showcase.idNumber },
        });
        return () => fixed;
      },
      startOurGateway(port, nodeOptions = [], env = {}) {
        return own(
          spawnBundle(
            join(root, "gateway"),
            {
              ...gatewayEnv,
              PORT: String(port),
              // As production runs it (graphql-js skips its development-only checks).
              NODE_ENV: "production",
              HUB_MODE: "production",
              HUB_SANDBOX: "off",
              HUB_RATE_LIMIT_PER_MINUTE: "100000000",
              ...env,
            },
            nodeOptions,
            "drain",
          ),
        );
      },
      async startApolloGateway(port, nodeOptions = []) {
        const dir = join(root, "bench", "apollo");
        await bundle(
          join(root, "bench", "src", "apollo-gateway.ts"),
          join(dir, "dist", "main.mjs"),
        );
        return own(
          spawnBundle(
            dir,
            {
              PORT: String(port),
              SUPERGRAPH_PATH,
              SUBGRAPH_URLS: JSON.stringify(subgraphUrls),
              NODE_ENV: "production",
            },
            nodeOptions,
            "drain",
          ),
        );
      },
      own,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
