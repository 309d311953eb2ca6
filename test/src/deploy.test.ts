import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadGatewayEnv } from "@hub/gateway";
import { loadSubgraphEnv, SUBGRAPHS, type SubgraphName } from "@hub/kit";
import { load, loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { ENTRIES, NODE_FLAGS } from "@hub/harness/processes";

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy");
/** Stand-ins for what the deployment fills in (secrets from its environment or secret store). */
const FILLED = { HUB_JWT_SECRET: "s".repeat(32), HUB_SERVICE_SECRET: "t".repeat(32) };

type Env = Record<string, string>;

/** Each process the deployment runs, with the environment it gives it. */
interface Deployed {
  service: string;
  replicas: number;
  env: Env;
}

/** Checks an environment the way the process itself does at start (its zod settings). */
function startsWith(service: string, env: Env): void {
  const filled = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      v.startsWith("$") || v.startsWith("<") ? (FILLED[k as keyof typeof FILLED] ?? v) : v,
    ]),
  );
  if (service === "gateway") {
    loadGatewayEnv(filled);
    return;
  }
  const name = service.replace("subgraphs/", "") as SubgraphName;
  loadSubgraphEnv(SUBGRAPHS[name].portVariable, SUBGRAPHS[name].defaultPort, filled);
}

async function composeServices(): Promise<Deployed[]> {
  const compose = load(await readFile(join(DEPLOY, "compose.yaml"), "utf8")) as {
    services: Record<string, { environment?: Env; deploy?: { replicas?: number } }>;
  };
  return Object.values(compose.services)
    .filter((s) => s.environment?.["HUB_SERVICE"])
    .map((s) => ({
      service: s.environment!["HUB_SERVICE"]!,
      replicas: s.deploy?.replicas ?? 1,
      env: Object.fromEntries(Object.entries(s.environment!).map(([k, v]) => [k, String(v)])),
    }));
}

async function kubernetesServices(): Promise<Deployed[]> {
  const docs = loadAll(await readFile(join(DEPLOY, "k8s", "hub.yaml"), "utf8")) as {
    kind: string;
    metadata: { name: string };
    data?: Env;
    stringData?: Env;
    spec?: {
      replicas?: number;
      template?: { spec: { containers: { env?: { name: string; value: string }[] }[] } };
    };
  }[];
  const shared: Env = {};
  for (const doc of docs) Object.assign(shared, doc.data ?? {}, doc.stringData ?? {});
  return docs
    .filter((doc) => doc.kind === "Deployment")
    .map((doc) => {
      const own = Object.fromEntries(
        (doc.spec!.template!.spec.containers[0]!.env ?? []).map((e) => [e.name, String(e.value)]),
      );
      return {
        service: own["HUB_SERVICE"]!,
        replicas: doc.spec!.replicas ?? 1,
        env: { ...shared, ...own },
      };
    });
}

describe("deployment files (deploy/) run what the tests run", () => {
  for (const [name, read] of [
    ["compose.yaml", composeServices],
    ["k8s/hub.yaml", kubernetesServices],
  ] as const)
    it(`${name}: every bundle, two replicas each, with every variable it needs (checked by its own settings)`, async () => {
      const deployed = await read();
      expect(deployed.map((d) => d.service).sort()).toEqual([...ENTRIES].sort());
      for (const d of deployed) {
        expect(d.replicas, d.service).toBeGreaterThanOrEqual(2);
        expect(() => startsWith(d.service, d.env), d.service).not.toThrow();
        // Production settings: every interface, production mode, a real replica set.
        expect(d.env["HOST"], d.service).toBe("0.0.0.0");
        expect(d.env["HUB_MODE"], d.service).toBe("production");
        if (d.service !== "gateway") expect(d.env["MONGODB_URI"], d.service).toMatch(/replicaSet=/);
        if (d.service === "gateway") {
          expect(d.env["HUB_REDIS_URL"]).toMatch(/^redis:\/\//);
          expect(d.env["NODE_FLAGS"]).toBe(NODE_FLAGS["gateway"]!.join(" "));
        }
        // Every process can reach every subgraph (the gateway calls them, relays deliver to them).
        for (const subgraph of Object.values(SUBGRAPHS))
          expect(d.env[subgraph.urlVariable], `${d.service} ${subgraph.urlVariable}`).toMatch(
            /^http:\/\//,
          );
      }
    });

  it("the image starts a bundle the way the tests and npm start do: node --enable-source-maps <flags> <package>/dist/main.mjs", async () => {
    const dockerfile = await readFile(join(DEPLOY, "Dockerfile"), "utf8");
    expect(dockerfile).toContain(
      'exec node --enable-source-maps $NODE_FLAGS \\"$HUB_SERVICE/dist/main.mjs\\"',
    );
    for (const entry of ENTRIES)
      expect(dockerfile, entry).toContain(`COPY --from=build /app/${entry}/dist ${entry}/dist`);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain("npm ci --omit=dev");
    expect(dockerfile).toContain("HEALTHCHECK");
  });
});
