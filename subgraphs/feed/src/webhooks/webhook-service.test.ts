import { randomBytes } from "node:crypto";
import { HubError } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { SecretCipher, signingSecrets } from "./secrets.js";
import { TargetPolicy, type ResolvedAddress } from "./target-policy.js";
import { MAX_LIVE_WEBHOOKS_PER_CHANNEL, WebhookService } from "./webhook-service.js";
import { WebhookStore } from "./webhook-store.js";

const client = useTestMongo();
const at = new Date("2026-12-05T08:00:00.000Z");
const cipher = new SecretCipher(randomBytes(32));
const resolve = async (host: string): Promise<ResolvedAddress[]> =>
  host === "hooks.example.com"
    ? [{ address: "93.184.216.34", family: 4 }]
    : host === "sneaky.example.com"
      ? [{ address: "127.0.0.1", family: 4 }]
      : [];

async function service(newest = 41) {
  const store = new WebhookStore(client().db(`wh_svc_${Math.random().toString(36).slice(2, 10)}`));
  await store.ensureIndexes();
  const policy = new TargetPolicy({ production: true, resolve });
  return {
    store,
    webhooks: new WebhookService(store, cipher, policy, { newest: async () => newest }),
  };
}

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  return work.then(
    () => null,
    (error: unknown) => (error instanceof HubError ? error.code : String(error)),
  );
}

describe("what the API does with webhooks (webhooks/webhook-service.ts)", () => {
  it("registers for the caller's channel from the log's head on; the secret is returned once and stored sealed", async () => {
    const { store, webhooks } = await service();
    const { webhook, secret } = await webhooks.register(
      "APP",
      { url: "https://hooks.example.com/cards", types: ["LOSS_REPORTED", "LOSS_REPORTED"] },
      at,
    );
    expect(webhook).toMatchObject({
      channel: "APP",
      status: "ACTIVE",
      types: ["LOSS_REPORTED"],
      position: 41,
      createdAt: at,
    });
    const stored = await store.byId(webhook._id);
    expect(JSON.stringify(stored)).not.toContain(secret.slice(6));
    expect(signingSecrets(stored!, at, cipher)).toEqual([secret]);
    const all = await webhooks.register(
      "APP",
      { url: "https://hooks.example.com/", types: [] },
      new Date(at.getTime() + 1),
    );
    expect(all.webhook.types).toBeNull();
    expect((await webhooks.list("APP")).map((w) => w._id)).toEqual([webhook._id, all.webhook._id]);
    expect(await webhooks.list("WECHAT")).toEqual([]);
  });

  it("production refuses a private target at registration (BAD_USER_INPUT), stores nothing", async () => {
    const { store, webhooks } = await service();
    for (const url of [
      "https://sneaky.example.com/",
      "https://10.0.0.8/",
      "http://hooks.example.com/",
      "https://nowhere.example.com/",
    ])
      expect(await codeOf(webhooks.register("APP", { url, types: null }, at)), url).toBe(
        "BAD_USER_INPUT",
      );
    expect(await store.webhooks.countDocuments({})).toBe(0);
  });

  it("rotation: a new secret, the previous one signs beside it for 24 h; not for another channel or a disabled webhook", async () => {
    const { store, webhooks } = await service();
    const first = await webhooks.register(
      "APP",
      { url: "https://hooks.example.com/", types: null },
      at,
    );
    const rotated = await webhooks.rotate("APP", first.webhook._id, at);
    expect(rotated.secret).not.toBe(first.secret);
    expect(rotated.webhook.version).toBe(2);
    const stored = await store.byId(first.webhook._id);
    expect(signingSecrets(stored!, at, cipher)).toEqual([rotated.secret, first.secret]);
    expect(signingSecrets(stored!, new Date(at.getTime() + 86_400_000), cipher)).toEqual([
      rotated.secret,
    ]);
    expect(await codeOf(webhooks.rotate("WECHAT", first.webhook._id, at))).toBe("NOT_FOUND");
    expect((await webhooks.disable("APP", first.webhook._id, at)).status).toBe("DISABLED");
    expect(await codeOf(webhooks.rotate("APP", first.webhook._id, at))).toBe("INVALID_TRANSITION");
    expect(await codeOf(webhooks.disable("WECHAT", first.webhook._id, at))).toBe("NOT_FOUND");
    expect(await codeOf(webhooks.deliveries("WECHAT", first.webhook._id, null))).toBe("NOT_FOUND");
  });

  it(`a channel has at most ${MAX_LIVE_WEBHOOKS_PER_CHANNEL} webhooks that are not disabled`, async () => {
    const { webhooks } = await service();
    const input = { url: "https://hooks.example.com/", types: null };
    const made = [];
    for (let i = 0; i < MAX_LIVE_WEBHOOKS_PER_CHANNEL; i++)
      made.push(await webhooks.register("APP", input, at));
    expect(await codeOf(webhooks.register("APP", input, at))).toBe("BAD_USER_INPUT");
    expect(await codeOf(webhooks.register("WECHAT", input, at))).toBeNull();
    await webhooks.disable("APP", made[0]!.webhook._id, at);
    expect(await codeOf(webhooks.register("APP", input, at))).toBeNull();
  });
});
