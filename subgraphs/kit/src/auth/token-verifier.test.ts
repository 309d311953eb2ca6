import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { HubError } from "../errors.js";
import { mintDevToken } from "./dev-token.js";
import { createTokenVerifier } from "./token-verifier.js";

const SECRET = "a-development-secret-of-32-characters!";

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    return (error as HubError).code;
  }
  throw new Error("expected a rejection");
}

describe("token verification", () => {
  it("reads sub, channel and scopes from a valid HS256 token", async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const caller = await verify(
      `Bearer ${await mintDevToken(SECRET, { sub: "op-7", channel: "PHARMACY", scopes: ["cards:read", "pii:read"] })}`,
    );
    expect(caller.sub).toBe("op-7");
    expect(caller.channel).toBe("PHARMACY");
    expect([...caller.scopes]).toEqual(["cards:read", "pii:read"]);
  });

  it("rejects an unknown channel claim", async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const bad = await new SignJWT({ channel: "FAX", scope: "cards:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    expect(await rejection(verify(`Bearer ${bad}`))).toBe("UNAUTHENTICATED");
  });

  it("rejects a token that is not valid yet", async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const future = Math.floor(Date.now() / 1000) + 3600;
    const early = await new SignJWT({ channel: "COUNTER" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setNotBefore(future)
      .setExpirationTime(future + 60)
      .sign(new TextEncoder().encode(SECRET));
    expect(await rejection(verify(`Bearer ${early}`))).toBe("UNAUTHENTICATED");
  });

  it("verifies RS256 tokens against a key set served on loopback, and refuses HS256 there", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const verify = createTokenVerifier({
        jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
      });
      const good = await new SignJWT({ channel: "APP", scope: "cards:read" })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setSubject("app-1")
        .setExpirationTime("5m")
        .sign(privateKey);
      expect((await verify(`Bearer ${good}`)).channel).toBe("APP");
      const hs = await mintDevToken(SECRET, { sub: "x", channel: "APP" });
      expect(await rejection(verify(`Bearer ${hs}`))).toBe("UNAUTHENTICATED");
    } finally {
      server.close();
    }
  });

  it("never remembers a token that failed verification", async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const forged = await mintDevToken("another-secret-of-at-least-32-chars!", {
      sub: "x",
      channel: "COUNTER",
    });
    expect(await rejection(verify(`Bearer ${forged}`))).toBe("UNAUTHENTICATED");
    expect(await rejection(verify(`Bearer ${forged}`))).toBe("UNAUTHENTICATED");
  });

  it("production: a token without exp, or valid for longer than the limit, is UNAUTHENTICATED", async () => {
    const verify = createTokenVerifier({ secret: SECRET, maxLifetimeSeconds: 12 * 3600 });
    const key = new TextEncoder().encode(SECRET);
    const claims = { channel: "COUNTER", scope: "cards:read" };
    const forever = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("op")
      .setIssuedAt()
      .sign(key);
    expect(await rejection(verify(`Bearer ${forever}`))).toBe("UNAUTHENTICATED");
    const long = await mintDevToken(SECRET, { sub: "op", channel: "COUNTER", expiresIn: "13h" });
    expect(await rejection(verify(`Bearer ${long}`))).toBe("UNAUTHENTICATED");
    const shift = await mintDevToken(SECRET, { sub: "op", channel: "COUNTER", expiresIn: "12h" });
    expect((await verify(`Bearer ${shift}`)).sub).toBe("op");
    // Development (no limit) takes either.
    expect((await createTokenVerifier({ secret: SECRET })(`Bearer ${forever}`)).sub).toBe("op");
  });
});
