import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import type { Channel } from "../channels.js";
import { SCOPES, type Scope } from "../scopes.js";

export interface DevTokenClaims {
  sub: string;
  channel: Channel;
  scopes?: readonly Scope[];
  /** Lifetime, in jose's time-span syntax ("8h", "30m"). */
  expiresIn?: string;
}

/** Signs an HS256 token the way development and tests need (CONTRACT.md "tokens"). */
export async function mintDevToken(secret: string, claims: DevTokenClaims): Promise<string> {
  return new SignJWT({ channel: claims.channel, scope: (claims.scopes ?? SCOPES).join(" ") })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? "8h")
    .sign(new TextEncoder().encode(secret));
}

export function generateDevSecret(): string {
  return randomBytes(32).toString("base64url");
}
