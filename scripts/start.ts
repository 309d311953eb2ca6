import "reflect-metadata";
// The sandbox module alone: the gateway package's index would load the whole runtime here.
import { isLoopbackHost } from "@hub/gateway/sandbox";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import {
  connectMongo,
  generateDevSecret,
  loadSubgraphUrls,
  mintDevToken,
  readSettings,
  startEmbeddedMongo,
  SUBGRAPH_NAMES,
  SUBGRAPHS,
  siblingUrl,
  subgraphDatabaseName,
  withoutEmptyValues,
  type EmbeddedMongo,
  type MongoClient,
} from "@hub/kit";
import {
  DEMO_CARD_PASSWORD,
  DEMO_ELECTRONIC_PASSWORD,
  sandboxExamples,
  seedDemoData,
} from "@hub/harness";
import { startEnv, watchEmbeddedGrowth } from "@hub/harness/cli";
import { buildAll, REPO_ROOT, spawnBundle, stopProcess, waitForOk } from "@hub/harness/processes";

/**
 * `npm start`: the whole hub on this machine — embedded MongoDB (unless MONGODB_URI is set), demo
 * data, the subgraphs and the gateway, each subgraph and the gateway in its own process.
 * Ctrl-C stops everything.
 */
const startedAt = Date.now();
const children: ChildProcess[] = [];
let embedded: EmbeddedMongo | null = null;
let stopping = false;

let growth: { stop(): void } | null = null;
let watched: MongoClient | null = null;

async function shutdown(code: number): Promise<never> {
  stopping = true;
  growth?.stop();
  await watched?.close().catch(() => undefined);
  await Promise.all(children.map((child) => stopProcess(child)));
  await embedded?.stop();
  process.exit(code);
}

function fail(message: string): Promise<never> {
  process.stderr.write(`start: ${message}\n`);
  return shutdown(1);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  // Each process runs bundled JavaScript with plain Node (@hub/harness/processes); bundling
  // takes ~1 s.
  const built = buildAll();
  const secret = process.env["HUB_JWT_SECRET"] ?? generateDevSecret();
  const metricsToken = process.env["HUB_METRICS_TOKEN"] ?? generateDevSecret();
  const gatewayPort = Number(process.env["PORT"] ?? 4000);
  let mongoUri = process.env["MONGODB_URI"];
  if (!mongoUri) {
    embedded = await startEmbeddedMongo();
    mongoUri = embedded.uri;
  }
  const client = await connectMongo(mongoUri);
  const demo =
    readSettings(startEnv).HUB_SEED === "off"
      ? null
      : await seedDemoData(client, process.env["HUB_DB_PREFIX"] ?? "hub");
  // Kept open on the embedded database only: npm start watches how full it gets.
  if (embedded) watched = client;
  else await client.close();

  await built;
  const common = {
    MONGODB_URI: mongoUri,
    HUB_JWT_SECRET: secret,
    // One mode for every process: the feed's webhooks accept loopback receivers in development.
    HUB_MODE: process.env["HUB_MODE"] ?? "development",
    LOG_LEVEL: process.env["LOG_LEVEL"] ?? "warn",
  };
  // One reading of where every subgraph is, handed to every process: the gateway calls them and
  // each subgraph's relay delivers its events to them.
  const subgraphUrls = loadSubgraphUrls(withoutEmptyValues(process.env));
  const placement: Record<string, string> = {};
  for (const name of SUBGRAPH_NAMES) {
    const url = subgraphUrls[name];
    if (!url) throw new Error(`${SUBGRAPHS[name].portVariable}: npm start needs a fixed port`);
    placement[SUBGRAPHS[name].urlVariable] = url;
    placement[SUBGRAPHS[name].portVariable] = new URL(url).port;
  }
  const launched = SUBGRAPH_NAMES.map((name) => {
    const child = spawnBundle(join(REPO_ROOT, "subgraphs", name), { ...common, ...placement });
    children.push(child);
    return { child, ready: siblingUrl(subgraphUrls[name] ?? "", "/readyz") };
  });
  // The gateway starts beside the subgraphs, not after them: it needs only their URLs to start,
  // and loading it takes as long as a subgraph does (cold start 1–2 s shorter).
  const dupPerson = demo?.persons.find((p) => p._id === demo.showcase.duplicates);
  const examples = demo ? sandboxExamples(demo) : {};
  const gateway = spawnBundle(join(REPO_ROOT, "gateway"), {
    ...common,
    ...placement,
    PORT: String(gatewayPort),
    HUB_SANDBOX_EXAMPLES: JSON.stringify(examples),
    HUB_METRICS_TOKEN: metricsToken,
  });
  children.push(gateway);
  for (const child of children)
    child.once("exit", (code) => void (!stopping && fail(`a hub process exited (code ${code})`)));
  await Promise.all([
    ...launched.map((l) => waitForOk(l.ready, 60_000, l.child)),
    waitForOk(`http://127.0.0.1:${gatewayPort}/healthz`, 60_000, gateway),
  ]);
  const origin = `http://127.0.0.1:${gatewayPort}`;

  const token = await mintDevToken(secret, {
    sub: "dev-counter-operator",
    channel: "COUNTER",
    expiresIn: "12h",
  });
  const query =
    "query PersonCards($idNumber: String!) { personByIdNumber(idNumber: $idNumber) { name cards { number status } } }";
  const first = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query,
      variables: { idNumber: dupPerson?.idNumber ?? "110101199003070011" },
    }),
  });
  if (!first.ok) await fail(`the first query through the gateway failed with HTTP ${first.status}`);
  // As the gateway decides (gateway/src/main.ts): development mode on a loopback address.
  const prefilled =
    (process.env["HUB_MODE"] ?? "development") === "development" &&
    isLoopbackHost(process.env["HOST"]);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);

  process.stdout.write(`
Card-status hub is up (first query answered ${seconds} s after start).

  GraphQL endpoint : ${origin}/graphql
  Sandbox          : ${origin}/graphql  (open in a browser; ${prefilled ? "token and example variables are filled in" : "paste the token into Headers"})
  Health           : ${origin}/healthz   ${origin}/readyz
  Status feed      : subscription CardEvents (GraphQL over SSE) and query CardEventLog at ${origin}/graphql (schema/feed.graphql, docs/feed.md)
  Metrics          : curl -H 'authorization: Bearer ${metricsToken}' ${origin}/metrics
  Database         : ${process.env["MONGODB_URI"] ? "MONGODB_URI" : "embedded (in memory, seeded with demo data)"}

Development token (counter operator, every scope incl. events:read and webhooks:write, 12 h; HS256 with HUB_JWT_SECRET):
  ${token}

HUB_JWT_SECRET for minting other tokens (see docs/configuration.md "Tokens"):
  ${secret}

Try it:
  curl -s ${origin}/graphql -H 'content-type: application/json' \\
    -H 'authorization: Bearer ${token}' \\
    -d '${JSON.stringify({ query, variables: { idNumber: dupPerson?.idNumber } })}'

Demo passwords: card password (state SET) ${DEMO_CARD_PASSWORD}; electronic-card password ${DEMO_ELECTRONIC_PASSWORD}.
Press Ctrl-C to stop.
`);
  if (watched) {
    const cards = watched
      .db(subgraphDatabaseName(process.env["HUB_DB_PREFIX"] ?? "hub", "cards"))
      .collection("cards");
    growth = watchEmbeddedGrowth({
      countCards: () => cards.estimatedDocumentCount(),
      warn: (count) =>
        process.stdout.write(
          `warning: the embedded database holds ${count} cards and slows as it fills (a demo engine); set MONGODB_URI to a MongoDB replica set for more (docs/embedded-database.md)\n`,
        ),
    });
  }
} catch (error) {
  await fail(error instanceof Error ? error.message : String(error));
}
