import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  newSigningSecret,
  parseSecretKey,
  ROTATION_OVERLAP_MS,
  rotatedSecrets,
  SecretCipher,
  signingSecrets,
  type WebhookSecrets,
} from "./secrets.js";

const key = randomBytes(32);
const cipher = new SecretCipher(key);
const at = new Date("2026-12-05T08:00:00.000Z");
const later = (ms: number) => new Date(at.getTime() + ms);

describe("webhook signing secrets (webhooks/secrets.ts)", () => {
  it("a new secret is whsec_ and base64 of 32 random bytes, different each time", () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64")).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(secret);
  });

  it("sealed with AES-256-GCM: opens with the key for its webhook only, never stored in clear", () => {
    const secret = newSigningSecret();
    const sealed = cipher.seal(secret, "wh_1");
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(cipher.seal(secret, "wh_1")).not.toBe(sealed); // a fresh IV each time
    expect(cipher.open(sealed, "wh_1")).toBe(secret);
    expect(() => cipher.open(sealed, "wh_2")).toThrow(/could not be opened/);
    expect(() => new SecretCipher(randomBytes(32)).open(sealed, "wh_1")).toThrow(
      /could not be opened/,
    );
    const [v, iv, tag, data] = sealed.split(".");
    const flipped = Buffer.from(data!, "base64url");
    flipped[0]! ^= 1;
    expect(() =>
      cipher.open([v, iv, tag, flipped.toString("base64url")].join("."), "wh_1"),
    ).toThrow(/could not be opened/);
    expect(() => cipher.open("v2.a.b.c", "wh_1")).toThrow(/format/);
  });

  it("the key is exactly 32 bytes, given as base64 (standard or url-safe) or hex", () => {
    expect(parseSecretKey(key.toString("base64"))).toEqual(key);
    expect(parseSecretKey(key.toString("base64url"))).toEqual(key);
    expect(parseSecretKey(key.toString("hex"))).toEqual(key);
    for (const bad of ["", "short", randomBytes(16).toString("base64"), "x".repeat(64)])
      expect(() => parseSecretKey(bad), bad).toThrow(/32 bytes/);
    expect(() => new SecretCipher(randomBytes(16))).toThrow(/32 bytes/);
  });

  it("rotation: old and new both sign for 24 h (new first), then only the new", () => {
    const [first, second, third] = [newSigningSecret(), newSigningSecret(), newSigningSecret()];
    const webhook = (secrets: WebhookSecrets) => ({ _id: "wh_1", secrets });
    const initial: WebhookSecrets = { current: cipher.seal(first, "wh_1"), previous: null };
    expect(signingSecrets(webhook(initial), at, cipher)).toEqual([first]);

    const rotated = rotatedSecrets(initial, cipher.seal(second, "wh_1"), at);
    expect(rotated.previous?.expiresAt).toEqual(later(ROTATION_OVERLAP_MS));
    expect(signingSecrets(webhook(rotated), at, cipher)).toEqual([second, first]);
    expect(signingSecrets(webhook(rotated), later(ROTATION_OVERLAP_MS - 1), cipher)).toEqual([
      second,
      first,
    ]);
    expect(signingSecrets(webhook(rotated), later(ROTATION_OVERLAP_MS), cipher)).toEqual([second]);

    // A second rotation within the overlap: two secrets at most, the oldest stops at once.
    const again = rotatedSecrets(rotated, cipher.seal(third, "wh_1"), later(60_000));
    expect(signingSecrets(webhook(again), later(60_000), cipher)).toEqual([third, second]);
  });
});
