/**
 * `npm run attribution -w @hub/bench -- [same|varied]`: our gateway against bare Hive Gateways
 * (bench/src/bare-hive.ts: none of our plugins or options; one on Hive's default runtime, one on
 * the Rust query planner runtime ours uses) on the same subgraphs, with PersonCards for the same
 * person every request (`same`, default) or a different one each request (`varied`). It
 * attributes the gateway's CPU per request to our own configuration versus Hive itself; it found
 * that propagating a per-request header doubled it.
 */
import "reflect-metadata";
import { join } from "node:path";
import autocannon from "autocannon";
import { SUPERGRAPH_PATH } from "@hub/schema";
import { bundle, spawnBundle, waitForOk } from "@hub/harness/processes";
import { cpuMs } from "./proc.js";
import { root, startBenchStack } from "./stack.js";

const varied = process.argv[2] === "varied";
const stack = await startBenchStack({ prefix: "attr", firstPort: 4511, personCount: 120 });
try {
  await bundle(join(root, "bench/src/bare-hive.ts"), join(root, "bench/bare/dist/main.mjs"));
  const bareEnv = {
    NODE_ENV: "production",
    SUPERGRAPH_PATH,
    SUBGRAPH_URLS: JSON.stringify(stack.subgraphUrls),
  };
  const targets = [
    {
      name: "ours",
      port: 4610,
      child: stack.startOurGateway(4610),
    },
    {
      name: "bare hive (default runtime)",
      port: 4611,
      child: stack.own(spawnBundle(join(root, "bench/bare"), { ...bareEnv, PORT: "4611" })),
    },
    {
      name: "bare hive (router runtime)",
      port: 4612,
      child: stack.own(
        spawnBundle(join(root, "bench/bare"), {
          ...bareEnv,
          PORT: "4612",
          BARE_RUNTIME: "router",
        }),
      ),
    },
  ];
  await waitForOk("http://127.0.0.1:4610/healthz", 30_000, targets[0]!.child);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const body = stack.bodies(varied ? "PersonCardsVaried" : "PersonCards");
  const request = {
    connections: 10,
    method: "POST" as const,
    headers: stack.headers,
    requests: [{ setupRequest: (r: object) => ({ ...r, body: body() }) }],
  };
  for (const round of [1, 2])
    for (const target of targets) {
      const url = `http://127.0.0.1:${target.port}/graphql`;
      await autocannon({ ...request, url, duration: 2 });
      const before = cpuMs(target.child.pid!);
      const result = await autocannon({ ...request, url, duration: 8 });
      console.log(
        `round ${round} ${target.name} (${varied ? "varied" : "same"} person): ` +
          `${Math.round(result.requests.total / 8)} req/s, ` +
          `${((cpuMs(target.child.pid!) - before) / result.requests.total).toFixed(2)} ms CPU/request, ` +
          `non-2xx ${result.non2xx}`,
      );
    }
} finally {
  await stack.stop();
}
