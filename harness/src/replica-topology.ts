import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectMongo, startEmbeddedMongo, SUBGRAPHS, type EmbeddedMongo } from "@hub/kit";
import type { DemoData } from "./demo/demo-data.js";
import { seedDemoData } from "./demo/seed-demo.js";
import { unusedPort } from "./ports.js";
import { buildAll, REPO_ROOT } from "./processes/bundles.js";
import { spawnBundle, stopProcess, waitForOk } from "./processes/spawn.js";

const HAPROXY = process.env["HUB_HAPROXY"] ?? "/usr/sbin/haproxy";
const NAMES = Object.keys(SUBGRAPHS) as (keyof typeof SUBGRAPHS)[];

/** One process of the topology, by name (`gateway-1`, `cards-2`, …). */
export interface Replica {
  name: string;
  service: "gateway" | keyof typeof SUBGRAPHS;
  port: number;
  child: ChildProcess;
}

export interface ReplicaTopology {
  /** The load balancer's address in front of the gateways (what clients use). */
  url: string;
  /** The load balancer's address in front of each subgraph's replicas. */
  subgraphUrls: Record<string, string>;
  replicas: Replica[];
  demo: DemoData | null;
  mongoUri: string;
  dbPrefix: string;
  /**
   * Starts a stopped or killed replica again, on its port with the environment it had, and
   * resolves once it is ready (`npm run chaos` kills replicas and needs them back).
   */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * N gateways and N replicas of each subgraph on one database, behind Debian's HAProxy: one
 * frontend for the gateways (what clients call) and one per subgraph (what the gateways and the
 * subgraphs' relays call), round robin, with health checks on /readyz and a retry on another
 * server when a connection is refused. What `npm run start:replicas` runs and the replicas tests
 * drive.
 */
export async function startReplicaTopology(options: {
  secret: string;
  replicas?: number;
  mongoUri?: string;
  dbPrefix?: string;
  seed?: boolean;
  env?: Record<string, string>;
  logLevel?: string;
}): Promise<ReplicaTopology> {
  if (!existsSync(HAPROXY))
    throw new Error(
      `No HAProxy at ${HAPROXY}: install Debian's haproxy package (npm test does as root) or set HUB_HAPROXY.`,
    );
  const count = options.replicas ?? 2;
  const dbPrefix = options.dbPrefix ?? "replicas";
  const replicas: Replica[] = [];
  let embedded: EmbeddedMongo | undefined;
  let balancer: ChildProcess | undefined;
  const stop = async () => {
    for (const replica of replicas.splice(0).reverse()) await stopProcess(replica.child);
    if (balancer) await stopProcess(balancer);
    await embedded?.stop();
  };
  try {
    await buildAll();
    let mongoUri = options.mongoUri;
    if (!mongoUri) {
      embedded = await startEmbeddedMongo();
      mongoUri = embedded.uri;
    }
    let demo: DemoData | null = null;
    if (options.seed !== false) {
      const client = await connectMongo(mongoUri);
      demo = await seedDemoData(client, dbPrefix);
      await client.close();
    }
    const frontPort = await unusedPort();
    const front: Record<string, number> = {};
    for (const name of NAMES) front[name] = await unusedPort();
    const ports: Record<string, number[]> = {};
    for (const service of ["gateway", ...NAMES])
      ports[service] = await Promise.all(Array.from({ length: count }, () => unusedPort()));
    const subgraphUrls = Object.fromEntries(
      NAMES.map((name) => [name, `http://127.0.0.1:${front[name]}/graphql`]),
    );
    const config = [
      "global",
      "  maxconn 4096",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 30s",
      "  timeout server 30s",
      // One connection per request to a server: a replica that stops never leaves half-closed
      // keep-alive connections behind. A request that found no server (refused, or closed before
      // any answer) is tried again on another; the hub's writes are version-guarded or keyed, so
      // a repeat cannot apply twice.
      "  option http-server-close",
      "  retries 3",
      "  option redispatch",
      "  retry-on conn-failure empty-response",
      "  option httpchk GET /readyz",
      // A check may take its time on a loaded machine (a gateway's /readyz asks every subgraph's):
      // without `timeout check` HAProxy allows only `inter`, and under load it marked every server
      // down at once. A stopped replica is still left at once: its connections are refused, and
      // the request is retried on another server (retry-on conn-failure).
      "  timeout check 2s",
      "  default-server inter 500ms fall 3 rise 2",
      // The feed at layer 4 (`mode tcp`): its subscriptions are long-lived responses, and in HTTP
      // mode HAProxy passes on a gateway's close of one only when it next writes to it (the feed
      // pings every 12 s; the first write after the close draws a reset, the second fails), so
      // the feed held a stream its client had left for 12 to 24 s. `option abortonclose` does not
      // help: it aborts only requests not yet being served. At layer 4 the close reaches the feed
      // at once. The feed's calls lose the HTTP-mode retry of an empty response (a read is
      // retried by the gateway's transport, an event delivery by the relay); a refused
      // connection is still tried on the other replica.
      ...["gateway", ...NAMES].flatMap((service) => [
        `frontend ${service}`,
        ...(service === "feed" ? ["  mode tcp"] : []),
        `  bind 127.0.0.1:${service === "gateway" ? frontPort : front[service]}`,
        `  default_backend ${service}-replicas`,
        `backend ${service}-replicas`,
        "  balance roundrobin",
        ...(service === "feed" ? ["  mode tcp", "  retry-on conn-failure"] : []),
        ...ports[service]!.map((port, i) => `  server ${service}-${i + 1} 127.0.0.1:${port} check`),
      ]),
    ].join("\n");
    const dir = await mkdtemp(join(tmpdir(), "hub-haproxy-"));
    await writeFile(join(dir, "haproxy.cfg"), config + "\n");
    balancer = spawn(HAPROXY, ["-f", join(dir, "haproxy.cfg"), "-db"], {
      stdio: ["ignore", "ignore", "inherit"],
    });

    const shared = {
      MONGODB_URI: mongoUri,
      HUB_DB_PREFIX: dbPrefix,
      HUB_JWT_SECRET: options.secret,
      // Production, as deployed: the feed seals webhook secrets with a key every replica shares.
      HUB_MODE: "production",
      HUB_WEBHOOK_KEY: randomBytes(32).toString("base64"),
      LOG_LEVEL: options.logLevel ?? "warn",
      // Two processes of each subgraph on one embedded database: they take turns at its
      // transactions and the writes beside them (no effect on a replica set).
      HUB_EMBEDDED_SHARED: "on",
      ...Object.fromEntries(
        NAMES.map((name) => [SUBGRAPHS[name].urlVariable, subgraphUrls[name]!]),
      ),
      ...options.env,
    };
    const spawnReplica = (service: Replica["service"], port: number): ChildProcess =>
      service === "gateway"
        ? spawnBundle(join(REPO_ROOT, "gateway"), {
            ...shared,
            PORT: String(port),
            HUB_MODE: "production",
            HUB_SANDBOX: "off",
          })
        : spawnBundle(join(REPO_ROOT, "subgraphs", service), {
            ...shared,
            [SUBGRAPHS[service].portVariable]: String(port),
          });
    const restart = async (name: string): Promise<void> => {
      const replica = replicas.find((r) => r.name === name);
      if (!replica) throw new Error(`no replica named ${name}`);
      await stopProcess(replica.child);
      // Replaced in place: stop() then stops the new process.
      replica.child = spawnReplica(replica.service, replica.port);
      await waitForOk(`http://127.0.0.1:${replica.port}/readyz`, 60_000, replica.child);
    };
    for (const name of NAMES)
      for (const [i, port] of ports[name]!.entries()) {
        const child = spawnReplica(name, port);
        replicas.push({ name: `${name}-${i + 1}`, service: name, port, child });
      }
    for (const replica of [...replicas])
      await waitForOk(`http://127.0.0.1:${replica.port}/readyz`, 60_000, replica.child);
    for (const [i, port] of ports["gateway"]!.entries()) {
      const child = spawnReplica("gateway", port);
      replicas.push({ name: `gateway-${i + 1}`, service: "gateway", port, child });
    }
    for (const replica of replicas.filter((r) => r.service === "gateway"))
      await waitForOk(`http://127.0.0.1:${replica.port}/readyz`, 60_000, replica.child);
    const url = `http://127.0.0.1:${frontPort}/graphql`;
    // Through the balancer too (its health checks have seen every server up).
    await waitForOk(`http://127.0.0.1:${frontPort}/readyz`, 30_000, balancer);
    return { url, subgraphUrls, replicas, demo, mongoUri, dbPrefix, restart, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
