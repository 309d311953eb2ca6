import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { LRUCache } from "lru-cache";
import { isChannel } from "../channels.js";
import { HubError } from "../errors.js";
import type { Caller } from "./caller.js";

export interface TokenVerifierOptions {
  /** HS256 secret (development and tests). */
  secret?: string;
  /** Key set URL for RS256/ES256 (production). Takes precedence over the secret. */
  jwksUrl?: string;
  /** Accepted clock skew in seconds. */
  clockToleranceSeconds?: number;
  /**
   * How long a verified token's caller is remembered, in milliseconds (never past the token's own
   * expiry, and with a key set never past KEY_SET_MAX_AGE_MS). 0 turns the memory off.
   */
  rememberMs?: number;
  /**
   * Production: a token must expire, and within this many seconds of being issued (a stolen
   * token is worth little for long). Unset: any lifetime, and no expiry needed (development).
   */
  maxLifetimeSeconds?: number;
}

/**
 * SECURITY.md promises a key withdrawn from the key set is refused within 60 s. Two caches stand
 * between the withdrawal and the refusal, one after the other: jose's copy of the key set (a token
 * verified just before it is re-read may still use the withdrawn key) and the memory of verified
 * callers (that token's caller is then remembered). Each gets half: a key set at most 30 s old,
 * and a caller remembered at most 30 s, so the worst case is 30 + 30 = 60 s.
 */
export const KEY_SET_MAX_AGE_MS = 30_000;
/**
 * A token whose key id the cached key set lacks (a key just published) re-reads the key set, but
 * no sooner than this after the last read: one read per 5 s at most however many tokens with
 * unknown key ids arrive, so they cannot flood the identity provider through the hub.
 */
export const KEY_SET_COOLDOWN_MS = 5_000;

/** Default of HUB_MAX_TOKEN_LIFETIME_SECONDS: a working day and then some. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 12 * 3600;

export type TokenVerifier = (authorization: string | null | undefined) => Promise<Caller>;

const unauthenticated = (why: string) => new HubError("UNAUTHENTICATED", why);

/**
 * One verifier for the gateway and every subgraph, so a subgraph called directly applies exactly
 * the rules the gateway applies. Algorithms are pinned per key type: `alg: none` and algorithm
 * confusion (an HS256 token signed with a public key) are refused by jose itself.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const tolerance = options.clockToleranceSeconds ?? 5;
  let verify: (token: string) => Promise<JWTPayload>;
  if (options.jwksUrl) {
    // jose's default keeps the key set 10 minutes and re-reads it early only for an unknown key
    // id, so a withdrawn key (whose id the cached set still holds) was honoured for that long.
    const keySet: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl), {
      cacheMaxAge: KEY_SET_MAX_AGE_MS,
      cooldownDuration: KEY_SET_COOLDOWN_MS,
    });
    verify = async (token) =>
      (
        await jwtVerify(token, keySet, {
          algorithms: ["RS256", "ES256"],
          clockTolerance: tolerance,
        })
      ).payload;
  } else if (options.secret) {
    const key = new TextEncoder().encode(options.secret);
    verify = async (token) =>
      (await jwtVerify(token, key, { algorithms: ["HS256"], clockTolerance: tolerance })).payload;
  } else {
    throw new Error("A token verifier needs HUB_JWT_SECRET or HUB_JWKS_URL");
  }

  // A terminal sends the same token with every request, and the gateway and each subgraph verify
  // it: the signature check was ~9% of the gateway's CPU per request (bench/src/profile.ts). A
  // token is immutable, so its verified caller is remembered, bounded in count and in time, and
  // never past `exp`. With a key set the time is at most KEY_SET_MAX_AGE_MS: a token verified
  // with a cached key set that still held a since-withdrawn key is then refused at most
  // KEY_SET_MAX_AGE_MS (key set) + KEY_SET_MAX_AGE_MS (memory) = 60 s after the withdrawal. A
  // secret cannot be withdrawn this way (changing it restarts the process), so it keeps 60 s.
  const rememberMs = Math.min(
    options.rememberMs ?? 60_000,
    options.jwksUrl ? KEY_SET_MAX_AGE_MS : Number.POSITIVE_INFINITY,
  );
  const remembered =
    rememberMs > 0 ? new LRUCache<string, Caller>({ max: 10_000, ttl: rememberMs }) : null;

  return async (authorization) => {
    if (!authorization) throw unauthenticated("A bearer token is required.");
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization.trim());
    const token = match?.[1];
    if (!token) throw unauthenticated("The Authorization header must be 'Bearer <token>'.");
    const known = remembered?.get(token);
    if (known) return known;
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      throw unauthenticated(describeJoseError(error));
    }
    if (options.maxLifetimeSeconds !== undefined)
      checkLifetime(payload, options.maxLifetimeSeconds);
    const caller = callerFrom(payload);
    if (remembered) {
      const untilExpiry =
        typeof payload.exp === "number" ? payload.exp * 1000 - Date.now() : rememberMs;
      if (untilExpiry > 0)
        remembered.set(token, caller, { ttl: Math.min(rememberMs, untilExpiry) });
    }
    return caller;
  };
}

function checkLifetime(payload: JWTPayload, maxSeconds: number): void {
  if (typeof payload.exp !== "number") throw unauthenticated("The token has no expiry (exp).");
  const issuedAt = typeof payload.iat === "number" ? payload.iat : Math.floor(Date.now() / 1000);
  if (payload.exp - issuedAt > maxSeconds)
    throw unauthenticated(
      `The token is valid for longer than ${maxSeconds / 3600} hours; ask for a shorter-lived one.`,
    );
}

function callerFrom(payload: JWTPayload): Caller {
  if (typeof payload.sub !== "string" || payload.sub.length === 0) {
    throw unauthenticated("The token has no subject.");
  }
  const channel = payload["channel"];
  if (!isChannel(channel)) throw unauthenticated("The token has no valid channel claim.");
  const scope = payload["scope"];
  const scopes = typeof scope === "string" ? scope.split(" ").filter(Boolean) : [];
  return Object.freeze({
    sub: payload.sub,
    channel,
    scopes: new Set(scopes),
    ...(typeof payload.exp === "number" ? { expiresAt: payload.exp * 1000 } : {}),
  });
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The token has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return "The token is not valid yet.";
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return "The token's algorithm is not accepted.";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return "The token's signature is invalid.";
  // Malformed tokens, unknown keys and an unreachable key set all end here: the caller learns
  // only that the token was not accepted.
  return "The token is not valid.";
}
