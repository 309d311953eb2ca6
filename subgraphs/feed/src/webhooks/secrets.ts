import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** Standard Webhooks' prefix of a signing secret. */
export const SECRET_PREFIX = "whsec_";
/** Random bytes in a new secret: the specification asks for at least 24. */
export const SECRET_BYTES = 32;
/** How long the secret a rotation replaced keeps signing beside the new one (contract v3). */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;
/** AES-256 needs a 32-byte key (HUB_WEBHOOK_KEY). */
export const KEY_BYTES = 32;

/** A new signing secret, shown to its channel once and stored only sealed. */
export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString("base64");
}

/**
 * The key from settings (HUB_WEBHOOK_KEY): 32 bytes as base64 (standard or url-safe) or as 64 hex
 * digits. Anything else is refused, never padded or hashed into shape: a short key would be a
 * weak one.
 */
export function parseSecretKey(raw: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, "hex")
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(text)
      ? Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64")
      : null;
  if (!key || key.length !== KEY_BYTES)
    throw new Error(`must be ${KEY_BYTES} bytes as base64 (44 characters) or hex (64 digits)`);
  return key;
}

const SEALED_VERSION = "v1";
const IV_BYTES = 12;

/**
 * Seals signing secrets for storage with AES-256-GCM: the database (and its backups) never holds
 * a secret that signs. Each sealed secret is bound to its webhook (the additional authenticated
 * data), so one copied onto another webhook's document does not open.
 */
export class SecretCipher {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES)
      throw new Error(`the webhook secret key must be ${KEY_BYTES} bytes, not ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, each base64url: versioned so the format may change later. */
  seal(secret: string, webhookId: string): string {
    // A fresh random IV per seal: GCM must never reuse one under the same key.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(webhookId, "utf8"));
    const data = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return [SEALED_VERSION, iv, cipher.getAuthTag(), data]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  }

  /** The secret `seal` sealed for this webhook; throws for another key, webhook or a damaged one. */
  open(sealed: string, webhookId: string): string {
    const [version, iv, tag, data, ...rest] = sealed.split(".");
    if (version !== SEALED_VERSION || !iv || !tag || data === undefined || rest.length > 0)
      throw new Error("a stored webhook secret is not in a format this version reads");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(webhookId, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([
        decipher.update(Buffer.from(data, "base64url")),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      // The cause (wrong key, tampering) is not told apart on purpose: neither is the caller's.
      throw new Error("a stored webhook secret could not be opened (wrong HUB_WEBHOOK_KEY?)");
    }
  }
}

/**
 * A webhook's secrets as stored: the current one, and the one the last rotation replaced until it
 * stops signing. A second rotation within the overlap drops the oldest at once: two secrets at
 * most sign, which bounds the headers and what a leaked old secret is worth.
 */
export interface WebhookSecrets {
  current: string;
  previous: { sealed: string; expiresAt: Date } | null;
}

/** The secrets after a rotation to `sealedNew` at `now`. */
export function rotatedSecrets(
  secrets: WebhookSecrets,
  sealedNew: string,
  now: Date,
  overlapMs = ROTATION_OVERLAP_MS,
): WebhookSecrets {
  return {
    current: sealedNew,
    previous: { sealed: secrets.current, expiresAt: new Date(now.getTime() + overlapMs) },
  };
}

/**
 * The secrets that sign a delivery made at `now`, opened: the current one first, then the
 * previous one while its overlap lasts. Derived from the stored expiry when read (no TTL, no
 * sweep): an expired previous secret simply stops signing.
 */
export function signingSecrets(
  webhook: { _id: string; secrets: WebhookSecrets },
  now: Date,
  cipher: SecretCipher,
): string[] {
  const { current, previous } = webhook.secrets;
  const sealed = [current];
  if (previous && previous.expiresAt.getTime() > now.getTime()) sealed.push(previous.sealed);
  return sealed.map((s) => cipher.open(s, webhook._id));
}
