import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  connectMongo,
  generateDevSecret,
  mintDevToken,
  startEmbeddedMongo,
  type EmbeddedMongo,
} from "@hub/kit";
import { splitOperations } from "@hub/gateway";
import { SCHEMA_DIR } from "@hub/schema";
import type { DemoData } from "../../scripts/demo/demo-data.js";
import { seedDemoData } from "../../scripts/demo/seed-demo.js";
import { buildAll } from "../../scripts/build.js";
import { spawnBundle, stopProcess, waitForOk } from "../../scripts/lib/processes.js";

/**
 * What every bench script stands on: the embedded database with the demo data and the four
 * subgraphs as bundled processes. Gateways under test are started by each script.
 */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const PORT_VARIABLES: Record<string, string> = {
  persons: "PERSONS_PORT",
  cards: "CARDS_PORT",
  passwords: "PASSWORDS_PORT",
  "bank-accounts": "BANK_ACCOUNTS_PORT",
};
const URL_VARIABLES: Record<string, string> = {
  persons: "PERSONS_URL",
  cards: "CARDS_URL",
  passwords: "PASSWORDS_URL",
  "bank-accounts": "BANK_ACCOUNTS_URL",
};

export interface BenchStack {
  secret: string;
  demo: DemoData;
  subgraphUrls: Record<string, string>;
  /** Environment a gateway of ours needs (database, secret, subgraph URLs, quiet logs). */
  gatewayEnv: Record<string, string>;
  token: string;
  /** A contract operation's document by name. */
  document(name: string): string;
  /** Tracks a process so `stop` ends it. */
  own(child: ChildProcess): ChildProcess;
  stop(): Promise<void>;
}

/** Builds the bundles, starts the database (seeded) and the subgraphs on `firstPort`..+3. */
export async function startBenchStack(options: {
  prefix: string;
  firstPort: number;
  personCount?: number;
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
    const names = Object.keys(PORT_VARIABLES);
    const subgraphUrls = Object.fromEntries(
      names.map((name, i) => [name, `http://127.0.0.1:${options.firstPort + i}/graphql`]),
    );
    const gatewayEnv = {
      MONGODB_URI: mongo.uri,
      HUB_JWT_SECRET: secret,
      HUB_DB_PREFIX: options.prefix,
      LOG_LEVEL: "warn",
      ...Object.fromEntries(names.map((n) => [URL_VARIABLES[n]!, subgraphUrls[n]!])),
    };
    for (const [i, name] of names.entries()) {
      const child = spawnBundle(join(root, "subgraphs", name), {
        ...gatewayEnv,
        [PORT_VARIABLES[name]!]: String(options.firstPort + i),
        HUB_COUNT_DB_COMMANDS: "on",
      });
      children.push(child);
      await waitForOk(`http://127.0.0.1:${options.firstPort + i}/readyz`, 60_000, child);
    }
    const operations = splitOperations(
      await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
    );
    return {
      secret,
      demo,
      subgraphUrls,
      gatewayEnv,
      token: await mintDevToken(secret, { sub: "bench", channel: "COUNTER", expiresIn: "2h" }),
      document(name) {
        const found = operations.find((o) => o.name === name);
        if (!found) throw new Error(`no contract operation named ${name}`);
        return found.document;
      },
      own(child) {
        children.push(child);
        return child;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
