import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import {
  createTokenVerifier,
  HubError,
  hs256ServiceTokens,
  startEmbeddedMongo,
  type EmbeddedMongo,
} from "@hub/kit";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { eventually } from "./support/eventually.js";
import { unusedPort } from "@hub/harness";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SERVICE_SECRET = "service-secret-of-at-least-thirty-two-chars";

let mongo: EmbeddedMongo;
let keySet: KeySet;
let subgraph: ChildProcess;
let origin: string;
let callerToken: string;
/** A second key of the identity provider, withdrawn from its key set by a test below. */
let rotated: { privateKey: CryptoKey; jwk: JWK };

/** An identity provider's key set on loopback, whose keys a test can change. */
interface KeySet {
  url: string;
  keys: JWK[];
  close(): void;
}
async function serveKeySet(keys: JWK[]): Promise<KeySet> {
  const served: KeySet = { url: "", keys, close: () => server.close() };
  const server: Server = createHttpServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ keys: served.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  served.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return served;
}

async function es256Key(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

/** A caller's token signed by the identity provider's key `kid`; a new one on every call. */
function signed(privateKey: CryptoKey, kid: string, expiresAt: number | string = "5m") {
  return new SignJWT({ channel: "BANK_COUNTER", scope: "cards:read" })
    .setProtectedHeader({ alg: "ES256", kid })
    .setSubject("teller-7")
    .setJti(randomUUID())
    .setExpirationTime(expiresAt)
    .sign(privateKey);
}

/**
 * A production-shaped deployment: callers' tokens come from an identity provider's key set
 * (HUB_JWKS_URL, ES256 here) and there is no HUB_JWT_SECRET; the relays between subgraphs sign
 * with HUB_SERVICE_SECRET. The bank-accounts subgraph runs as its own process, as in production.
 */
beforeAll(async () => {
  mongo = await startEmbeddedMongo();
  const current = await es256Key("idp-1");
  rotated = await es256Key("idp-2");
  keySet = await serveKeySet([current.jwk, rotated.jwk]);
  callerToken = await signed(current.privateKey, "idp-1");
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
        HUB_JWKS_URL: keySet.url,
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
    // Accepted and answered: the event is not one this subgraph handles, so it is named as failed
    // (the relay retries it and then dead-letters it) rather than dropped.
    expect(await delivered.json()).toEqual({
      applied: 0,
      pending: {},
      failed: {
        eventId: "ev-prod-1",
        error: "bank-accounts does not handle NothingThisSubgraphHandles events",
      },
    });
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

/**
 * SECURITY.md: "a key withdrawn from the key set stops being honoured within 60 s" (a verified
 * caller is remembered for 60 s at most). Both the token the subgraph already saw and a new one
 * signed by the withdrawn key must be refused by then.
 */
describe("a key withdrawn from the identity provider's key set", () => {
  const WITHIN_MS = 60_000;

  it(
    "stops being honoured within 60 s by a deployed subgraph, for a token it has seen and for a new one",
    { timeout: WITHIN_MS + 30_000 },
    async () => {
      const seen = await signed(rotated.privateKey, "idp-2");
      expect((await post("/graphql", seen, { query: "{ __typename }" })).status).toBe(200);
      keySet.keys = keySet.keys.filter((key) => key.kid !== "idp-2");
      // Another process's clock cannot be moved: this waits, polling, for as long as the claim
      // allows and no longer (a correct hub passes as soon as it stops honouring the key).
      await eventually(
        async () => {
          const fresh = await signed(rotated.privateKey, "idp-2");
          expect((await post("/graphql", fresh, { query: "{ __typename }" })).status).toBe(401);
          expect((await post("/graphql", seen, { query: "{ __typename }" })).status).toBe(401);
        },
        WITHIN_MS + 5_000,
        1_000,
      );
      // The key that stayed is still honoured.
      expect((await post("/graphql", callerToken, { query: "{ __typename }" })).status).toBe(200);
    },
  );

  afterEach(() => {
    vi.useRealTimers();
  });

  it("a new token signed by it is refused 60 s later by the verifier as deployed (createTokenVerifier with HUB_JWKS_URL)", async () => {
    // Only Date is faked: jose reads it for its key-set cache and for exp; a new token is never
    // in the verifier's memory, so its timer does not matter here.
    vi.useFakeTimers({ toFake: ["Date"] });
    const key = await es256Key("idp-9");
    const own = await serveKeySet([key.jwk]);
    try {
      // As subgraph-main.ts and the gateway's main.ts build it.
      const verify = createTokenVerifier({ jwksUrl: own.url });
      const before = await signed(key.privateKey, "idp-9");
      expect((await verify(`Bearer ${before}`)).sub).toBe("teller-7");
      own.keys = [];
      vi.setSystemTime(Date.now() + WITHIN_MS + 1_000);
      const after = await signed(key.privateKey, "idp-9", Math.floor(Date.now() / 1000) + 300);
      await expect(verify(`Bearer ${after}`)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    } finally {
      own.close();
    }
  });
});

/**
 * The verifier's memory of callers (rememberMs): "never past exp". Expired tokens are minted with
 * an explicit past `exp` rather than waited for; only the last test waits, for one token's
 * second or two of life, because the memory runs on the process's monotonic clock, which a test
 * cannot move.
 */
describe("remembered callers never outlive their token", () => {
  const SECRET = "a-development-secret-of-32-characters!";
  const hs256 = (exp: number) =>
    new SignJWT({ channel: "COUNTER", scope: "cards:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("op-1")
      .setJti(randomUUID())
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(SECRET));
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => "accepted",
      (error: unknown) => (error instanceof HubError ? error.code : String(error)),
    );

  it("a token already past its exp is refused, the first time and every time", async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const expired = await hs256(nowSeconds() - 60);
    expect(await codeOf(verify(`Bearer ${expired}`))).toBe("UNAUTHENTICATED");
    expect(await codeOf(verify(`Bearer ${expired}`))).toBe("UNAUTHENTICATED");
  });

  it("a token past its exp but within the clock tolerance is accepted and not remembered; a valid one is", async () => {
    const verify = createTokenVerifier({ secret: SECRET, clockToleranceSeconds: 60 });
    // Remembering returns the very same caller object; verifying anew builds another.
    const late = `Bearer ${await hs256(nowSeconds() - 10)}`;
    expect(await verify(late)).not.toBe(await verify(late));
    const valid = `Bearer ${await hs256(nowSeconds() + 3600)}`;
    expect(await verify(valid)).toBe(await verify(valid));
  });

  it("a remembered caller is dropped when its token expires", async () => {
    const verify = createTokenVerifier({ secret: SECRET, clockToleranceSeconds: 0 });
    // exp counts whole seconds: 1 to 2 s of life. If this process stalls past it before the first
    // verification, that is no finding about the verifier: take a new token.
    let token = "";
    let exp = 0;
    for (let attempt = 0; attempt < 5 && !token; attempt++) {
      exp = nowSeconds() + 2;
      const candidate = `Bearer ${await hs256(exp)}`;
      const first = await verify(candidate).catch(() => null);
      if (first && Date.now() < exp * 1000 - 200 && (await verify(candidate)) === first)
        token = candidate;
    }
    expect(token, "a token remembered while valid").not.toBe("");
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 20));
    expect(await codeOf(verify(token))).toBe("UNAUTHENTICATED");
  });
});
