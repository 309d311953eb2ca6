import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
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
}

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
    const keySet: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl));
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

  return async (authorization) => {
    if (!authorization) throw unauthenticated("A bearer token is required.");
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization.trim());
    if (!match?.[1]) throw unauthenticated("The Authorization header must be 'Bearer <token>'.");
    let payload: JWTPayload;
    try {
      payload = await verify(match[1]);
    } catch (error) {
      throw unauthenticated(describeJoseError(error));
    }
    if (typeof payload.sub !== "string" || payload.sub.length === 0) {
      throw unauthenticated("The token has no subject.");
    }
    const channel = payload["channel"];
    if (!isChannel(channel)) throw unauthenticated("The token has no valid channel claim.");
    const scope = payload["scope"];
    const scopes = typeof scope === "string" ? scope.split(" ").filter(Boolean) : [];
    return { sub: payload.sub, channel, scopes: new Set(scopes) };
  };
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
