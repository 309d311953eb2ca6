import { hkdfSync } from "node:crypto";
import { commonEnv, ConfigError, readSettings } from "@hub/kit";
import { z } from "zod";
import { parseSecretKey } from "./secrets.js";

export interface WebhookSettings {
  /** Seals the signing secrets at rest (AES-256-GCM): HUB_WEBHOOK_KEY. */
  key: Buffer;
  /** Hosts, addresses and networks accepted although not public: HUB_WEBHOOK_ALLOWED_HOSTS. */
  allowedHosts: string[];
  /** HUB_MODE=production (the default): https and public addresses only. */
  production: boolean;
}

export const webhookEnv = z.object({
  /** 32 bytes, base64 or hex (e.g. `openssl rand -base64 32`). Required in production. */
  HUB_WEBHOOK_KEY: z.string().optional(),
  /** Comma- or space-separated. */
  HUB_WEBHOOK_ALLOWED_HOSTS: z.string().default(""),
  /** Every process's mode (kit `commonEnv`): production unless told otherwise. */
  HUB_MODE: commonEnv.shape.HUB_MODE,
  /** Development only: the key is derived from it when HUB_WEBHOOK_KEY is not set. */
  HUB_JWT_SECRET: commonEnv.shape.HUB_JWT_SECRET,
});

/**
 * Reads the webhooks' settings once, at start; the message names every bad one. In development
 * without HUB_WEBHOOK_KEY the key is derived from HUB_JWT_SECRET (HKDF), so `npm start` needs no
 * extra setup and every replica derives the same key; production must set its own.
 */
export function loadWebhookSettings(env: NodeJS.ProcessEnv = process.env): WebhookSettings {
  const { HUB_WEBHOOK_KEY, HUB_WEBHOOK_ALLOWED_HOSTS, HUB_MODE, HUB_JWT_SECRET } = readSettings(
    webhookEnv,
    env,
  );
  const production = HUB_MODE === "production";
  let key: Buffer;
  if (HUB_WEBHOOK_KEY) {
    try {
      key = parseSecretKey(HUB_WEBHOOK_KEY);
    } catch (error) {
      throw new ConfigError(`Invalid configuration: HUB_WEBHOOK_KEY: ${(error as Error).message}`);
    }
  } else if (!production && HUB_JWT_SECRET) {
    key = Buffer.from(hkdfSync("sha256", HUB_JWT_SECRET, "", "hub webhook secrets", 32));
  } else {
    throw new ConfigError(
      "Invalid configuration: HUB_WEBHOOK_KEY: required in production (32 bytes, base64 or hex; seals webhook signing secrets)",
    );
  }
  return {
    key,
    allowedHosts: HUB_WEBHOOK_ALLOWED_HOSTS.split(/[\s,]+/).filter(Boolean),
    production,
  };
}
