import { generateDevSecret, mintDevToken } from "@hub/kit";
import { startReplicaTopology } from "@hub/harness/replicas";

/**
 * `npm run start:replicas`: the multi-replica topology on this machine — HUB_REPLICAS (default 2)
 * gateways and replicas of each subgraph behind Debian's HAProxy, on one embedded database (or
 * MONGODB_URI) with the demo data. Prints the load balancer's address and a token; Ctrl-C stops.
 */
const secret = process.env["HUB_JWT_SECRET"] ?? generateDevSecret();
const topology = await startReplicaTopology({
  secret,
  replicas: Number(process.env["HUB_REPLICAS"] ?? 2),
  mongoUri: process.env["MONGODB_URI"] || undefined,
  env: process.env["HUB_REDIS_URL"] ? { HUB_REDIS_URL: process.env["HUB_REDIS_URL"] } : {},
});
const token = await mintDevToken(secret, {
  sub: "replicas-operator",
  channel: "COUNTER",
  expiresIn: "8h",
});
console.log(`Card-status hub (replicas) is up: ${topology.url}`);
console.log(`processes: ${topology.replicas.map((r) => `${r.name} :${r.port}`).join(", ")}`);
console.log(`token: ${token}`);
const stop = () => void topology.stop().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
