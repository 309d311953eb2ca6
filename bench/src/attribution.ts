/**
 * `npm run attribution -w @hub/bench`: our gateway against a bare Hive Gateway (bench/src/bare-hive.ts,
 * none of our plugins or options) on the same subgraphs and PersonCards, to attribute the
 * gateway's CPU per request. It found that propagating a per-request header doubled it.
 */
import "reflect-metadata";
import { join } from "node:path";
import autocannon from "autocannon";
import { readFile } from "node:fs/promises";
import { connectMongo, generateDevSecret, mintDevToken, startEmbeddedMongo } from "@hub/kit";
import { splitOperations } from "@hub/gateway";
import { SCHEMA_DIR, SUPERGRAPH_PATH } from "@hub/schema";
import { seedDemoData } from "../../scripts/demo/seed-demo.js";
import { buildAll, bundle } from "../../scripts/build.js";
import { spawnBundle, stopProcess, waitForOk } from "../../scripts/lib/processes.js";
import { cpuMs } from "./proc.js";
const root = process.cwd();
await buildAll();
await bundle(join(root, "bench/src/bare-hive.ts"), join(root, "bench/bare/dist/main.mjs"));
const secret = generateDevSecret();
const mongo = await startEmbeddedMongo();
const client = await connectMongo(mongo.uri);
const demo = await seedDemoData(client, "attr");
await client.close();
const ports: Record<string, number> = {
  persons: 4511,
  cards: 4512,
  passwords: 4513,
  "bank-accounts": 4514,
};
const pv: Record<string, string> = {
  persons: "PERSONS_PORT",
  cards: "CARDS_PORT",
  passwords: "PASSWORDS_PORT",
  "bank-accounts": "BANK_ACCOUNTS_PORT",
};
const urls = Object.fromEntries(
  Object.entries(ports).map(([n, p]) => [n, `http://127.0.0.1:${p}/graphql`]),
);
const common = {
  MONGODB_URI: mongo.uri,
  HUB_JWT_SECRET: secret,
  HUB_DB_PREFIX: "attr",
  LOG_LEVEL: "warn",
  PERSONS_URL: urls["persons"],
  CARDS_URL: urls["cards"],
  PASSWORDS_URL: urls["passwords"],
  BANK_ACCOUNTS_URL: urls["bank-accounts"],
};
const kids = [];
for (const [n, p] of Object.entries(ports)) {
  const c = spawnBundle(join(root, "subgraphs", n), { ...common, [pv[n]!]: String(p) });
  kids.push(c);
  await waitForOk(`http://127.0.0.1:${p}/readyz`, 30000, c);
}
const ours = spawnBundle(join(root, "gateway"), {
  ...common,
  PORT: "4610",
  HUB_SANDBOX: "off",
  HUB_RATE_LIMIT_PER_MINUTE: "100000000",
});
const bare = spawnBundle(join(root, "bench/bare"), {
  PORT: "4611",
  SUPERGRAPH_PATH,
  SUBGRAPH_URLS: JSON.stringify(urls),
});
kids.push(ours, bare);
await waitForOk("http://127.0.0.1:4610/healthz", 30000, ours);
await new Promise((r) => setTimeout(r, 2000));
const token = await mintDevToken(secret, { sub: "b", channel: "COUNTER" });
const q = splitOperations(await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8")).find(
  (o) => o.name === "PersonCards",
)!.document;
const person = demo.persons.find((p) => p._id === demo.showcase.duplicates)!;
const body = JSON.stringify({ query: q, variables: { idNumber: person.idNumber } });
for (const round of [1, 2])
  for (const [name, url, pid] of [
    ["ours", "http://127.0.0.1:4610/graphql", ours.pid!],
    ["bare hive", "http://127.0.0.1:4611/graphql", bare.pid!],
  ] as const) {
    await autocannon({
      url,
      connections: 10,
      duration: 2,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
    });
    const before = cpuMs(pid);
    const r = await autocannon({
      url,
      connections: 10,
      duration: 8,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
    });
    console.log(
      round,
      name,
      "rps",
      Math.round(r.requests.total / 8),
      "cpu ms/req",
      ((cpuMs(pid) - before) / r.requests.total).toFixed(2),
      "non2xx",
      r.non2xx,
    );
  }
for (const k of kids) await stopProcess(k);
await mongo.stop();
