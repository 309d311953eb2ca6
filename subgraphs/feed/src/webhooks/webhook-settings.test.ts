import { randomBytes } from "node:crypto";
import { ConfigError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { loadWebhookSettings } from "./webhook-settings.js";

const key = randomBytes(32);
const jwt = "a-development-secret-of-at-least-32-characters";

describe("webhook settings (webhooks/webhook-settings.ts)", () => {
  it("production by default: HUB_WEBHOOK_KEY is required, 32 bytes", () => {
    expect(() => loadWebhookSettings({ HUB_JWT_SECRET: jwt })).toThrow(ConfigError);
    expect(() => loadWebhookSettings({ HUB_JWT_SECRET: jwt })).toThrow(/HUB_WEBHOOK_KEY: required/);
    expect(() => loadWebhookSettings({ HUB_WEBHOOK_KEY: "too-short" })).toThrow(
      /HUB_WEBHOOK_KEY: must be 32 bytes/,
    );
    expect(loadWebhookSettings({ HUB_WEBHOOK_KEY: key.toString("base64") })).toEqual({
      key,
      allowedHosts: [],
      production: true,
    });
  });

  it("the allow-list is comma- or space-separated; an empty variable means none", () => {
    const settings = loadWebhookSettings({
      HUB_WEBHOOK_KEY: key.toString("hex"),
      HUB_WEBHOOK_ALLOWED_HOSTS: " bank.internal, 10.20.0.0/16  fd00::5,",
    });
    expect(settings.allowedHosts).toEqual(["bank.internal", "10.20.0.0/16", "fd00::5"]);
    expect(
      loadWebhookSettings({ HUB_WEBHOOK_KEY: key.toString("hex"), HUB_WEBHOOK_ALLOWED_HOSTS: "" })
        .allowedHosts,
    ).toEqual([]);
  });

  it("development without a key derives one from HUB_JWT_SECRET, the same in every replica", () => {
    const a = loadWebhookSettings({ HUB_MODE: "development", HUB_JWT_SECRET: jwt });
    const b = loadWebhookSettings({ HUB_MODE: "development", HUB_JWT_SECRET: jwt });
    expect(a.production).toBe(false);
    expect(a.key).toHaveLength(32);
    expect(a.key).toEqual(b.key);
    expect(() => loadWebhookSettings({ HUB_MODE: "development" })).toThrow(/HUB_WEBHOOK_KEY/);
    expect(() =>
      loadWebhookSettings({ HUB_MODE: "staging", HUB_WEBHOOK_KEY: key.toString("hex") }),
    ).toThrow(/HUB_MODE/);
  });
});
