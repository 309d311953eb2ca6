import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hs256ServiceTokens, startEmbeddedMongo, type EmbeddedMongo } from "@hub/kit";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { unusedPort } from "../../scripts/lib/ports.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SERVICE_SECRET = "service-secret-of-at-least-thirty-two-chars";

let mongo: EmbeddedMongo;
let keySet: Server;
let subgraph: ChildProcess;
let origin: string;
let callerToken: string;

/**
 * A production-shaped deployment: callers' tokens come from an identity provider's key set
 * (HUB_JWKS_URL, ES256 here) and there is no HUB_JWT_SECRET; the relays between subgraphs sign
 * with HUB_SERVICE_SECRET. The bank-accounts subgraph runs as its own process, as in production.
 */
beforeAll(async () => {
  mongo = await startEmbeddedMongo();
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "idp-1", alg: "ES256", use: "sig" };
  keySet = createHttpServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => keySet.listen(0, "127.0.0.1", resolve));
  callerToken = await new SignJWT({ channel: "BANK_COUNTER", scope: "cards:read" })
    .setProtectedHeader({ alg: "ES256", kid: "idp-1" })
    .setSubject("teller-7")
    .setExpirationTime("5m")
    .sign(privateKey);
  const port = await unusedPort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["HUB_JWT_SECRET"];
  origin = `http://127.0.0.1:${port}`;
  subgraph = spawn(
    process.execPath,
    ["--import", "tsx", join(root, "subgraphs/bank-accounts/src/main.ts")],
    {
      cwd: root,
      env: {
        ...env,
        MONGODB_URI: mongo.uri,
        HUB_DB_PREFIX: "prodtokens",
        HUB_JWKS_URL: `http://127.0.0.1:${(keySet.address() as AddressInfo).port}/jwks.json`,
        HUB_SERVICE_SECRET: SERVICE_SECRET,
        BANK_ACCOUNTS_PORT: String(port),
        LOG_LEVEL: "silent",
      },
      stdio: "ignore",
    },
  );
  await eventually(async () => {
    const ready = await fetch(`${origin}/readyz`).catch(() => null);
    expect(ready?.status).toBe(200);
  }, 30_000);
}, 60_000);

afterAll(async () => {
  subgraph?.kill("SIGTERM");
  keySet?.close();
  await mongo?.stop();
});

function post(path: string, token: string, body: unknown): Promise<Response> {
  return fetch(`${origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

const ignoredEvent = {
  events: [
    {
      id: "ev-prod-1",
      type: "NothingThisSubgraphHandles",
      payload: {},
      actor: "relay",
      channel: "NATIONAL_PLATFORM",
      occurredAt: new Date().toISOString(),
      source: "cards",
    },
  ],
};

describe("a deployment with an identity provider's key set (HUB_JWKS_URL) and HUB_SERVICE_SECRET", () => {
  it("accepts the relay's deliveries signed with the service secret", async () => {
    const relayToken = await hs256ServiceTokens(SERVICE_SECRET, "cards")();
    const delivered = await post("/events", relayToken, ignoredEvent);
    expect(delivered.status).toBe(200);
    expect(await delivered.json()).toEqual({ applied: 0, pending: {} });
  });

  it("serves callers with key-set tokens, and refuses them at /events", async () => {
    const query = await post("/graphql", callerToken, { query: "{ __typename }" });
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual({ data: { __typename: "Query" } });
    expect((await post("/events", callerToken, ignoredEvent)).status).toBe(401);
  });

  it("refuses service tokens at /graphql: only the identity provider's keys sign callers", async () => {
    const relayToken = await hs256ServiceTokens(SERVICE_SECRET, "cards")();
    expect((await post("/graphql", relayToken, { query: "{ __typename }" })).status).toBe(401);
  });
});
