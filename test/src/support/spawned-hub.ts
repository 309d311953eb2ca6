import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { startEmbeddedMongo, SUBGRAPHS, type EmbeddedMongo } from "@hub/kit";
import { unusedPort } from "@hub/harness";
import { buildAll, REPO_ROOT, spawnBundle, stopProcess, waitForOk } from "@hub/harness/processes";

const NAMES = Object.keys(SUBGRAPHS) as (keyof typeof SUBGRAPHS)[];

/** One process of the hub: its port, and its inspector's when it was started with one. */
export interface HubProcess {
  child: ChildProcess;
  port: number;
  inspectorPort?: number;
}

export interface SpawnedHub {
  /** The gateway's /graphql. */
  url: string;
  /** By name: `gateway` and each subgraph. */
  processes: Record<string, HubProcess>;
  stop(): Promise<void>;
}

/**
 * The hub as it is deployed, one bundled process each (gateway and the five subgraphs) on one
 * embedded database, for tests that look at a process from outside: its connections, its heap
 * (through the inspector of those named in `inspect`).
 */
export async function startSpawnedHub(options: {
  secret: string;
  inspect?: string[];
  env?: Record<string, string>;
  /** Settings of the gateway's alone, over `env`. */
  gatewayEnv?: Record<string, string>;
  /** `pipe`: each process's log lines are read from its `child.stdout` (default: inherited). */
  logs?: "inherit" | "pipe";
}): Promise<SpawnedHub> {
  const children: ChildProcess[] = [];
  let embedded: EmbeddedMongo | undefined;
  const stop = async () => {
    for (const child of children.splice(0).reverse()) await stopProcess(child);
    await embedded?.stop();
  };
  try {
    await buildAll();
    let mongoUri = process.env["TEST_MONGODB_URI"];
    if (!mongoUri) {
      embedded = await startEmbeddedMongo();
      mongoUri = embedded.uri;
    }
    const ports: Record<string, number> = {};
    for (const name of ["gateway", ...NAMES]) ports[name] = await unusedPort();
    const env = {
      MONGODB_URI: mongoUri,
      HUB_DB_PREFIX: `s${Date.now().toString(36)}`,
      HUB_JWT_SECRET: options.secret,
      LOG_LEVEL: "warn",
      // Production mode (the default) wants the key that seals webhook secrets.
      HUB_WEBHOOK_KEY: randomBytes(32).toString("base64"),
      ...Object.fromEntries(
        NAMES.map((name) => [
          SUBGRAPHS[name].urlVariable,
          `http://127.0.0.1:${ports[name]}/graphql`,
        ]),
      ),
      ...options.env,
    };
    const processes: Record<string, HubProcess> = {};
    const start = async (name: string, dir: string, own: Record<string, string>) => {
      const inspectorPort = options.inspect?.includes(name) ? await unusedPort() : undefined;
      const child = spawnBundle(
        dir,
        { ...env, ...own },
        inspectorPort ? [`--inspect=127.0.0.1:${inspectorPort}`] : [],
        options.logs === "pipe" ? "drain" : "inherit",
      );
      children.push(child);
      processes[name] = { child, port: ports[name]!, inspectorPort };
      await waitForOk(`http://127.0.0.1:${ports[name]}/readyz`, 60_000, child);
    };
    for (const name of NAMES)
      await start(name, join(REPO_ROOT, "subgraphs", name), {
        [SUBGRAPHS[name].portVariable]: String(ports[name]),
      });
    await start("gateway", join(REPO_ROOT, "gateway"), {
      PORT: String(ports["gateway"]),
      HUB_MODE: "production",
      HUB_SANDBOX: "off",
      // One test subject makes every request: the per-subject limit is not under test here.
      HUB_RATE_LIMIT_PER_MINUTE: "100000000",
      ...options.gatewayEnv,
    });
    return { url: `http://127.0.0.1:${ports["gateway"]}/graphql`, processes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
