import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { buildFederatedSchema, EffectScope, type Caller, type Channel, type Scope } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import type { GraphQLSchema } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { SecretCipher } from "../webhooks/secrets.js";
import { TargetPolicy } from "../webhooks/target-policy.js";
import { WebhookService } from "../webhooks/webhook-service.js";
import { WebhookStore } from "../webhooks/webhook-store.js";
import { WebhookResolver } from "./webhook-resolver.js";

const client = useTestMongo();
// The schema comes from @apollo/subgraph, which loads graphql's CommonJS build; executing it with
// the ES module build fails graphql's one-instance check, so the test uses the same build.
const { graphql } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

// The contract's webhook operations (../shared/contract/feed.graphql), as channels send them.
const WEBHOOK = "id url types status createdAt";
const REGISTER = `mutation RegisterWebhook($input: RegisterWebhookInput!) {
  registerWebhook(input: $input) { webhook { ${WEBHOOK} } secret } }`;
const ROTATE = `mutation RotateWebhookSecret($input: WebhookIdInput!) {
  rotateWebhookSecret(input: $input) { webhook { ${WEBHOOK} } secret } }`;
const DISABLE = `mutation DisableWebhook($input: WebhookIdInput!) {
  disableWebhook(input: $input) { webhook { id status } } }`;
const LIST = `query Webhooks { webhooks { ${WEBHOOK} } }`;
const DELIVERIES = `query WebhookDeliveries($webhookId: ID!, $first: Int) {
  webhookDeliveries(webhookId: $webhookId, first: $first) {
    eventId status attempts lastAttemptAt responseStatus } }`;

/**
 * An answer's data. `any` on purpose: the test walks nested answers whose shape `expect` checks,
 * and typing each operation's result would only repeat the documents above.
 */
type Answer = Record<string, any>;

let schema: GraphQLSchema;
let webhooks: WebhookService;

beforeAll(async () => {
  schema = await buildFederatedSchema({ resolvers: [WebhookResolver] });
  const store = new WebhookStore(client().db("wh_resolver"));
  await store.ensureIndexes();
  const policy = new TargetPolicy({
    production: true,
    resolve: async () => [{ address: "93.184.216.34", family: 4 }],
  });
  webhooks = new WebhookService(store, new SecretCipher(randomBytes(32)), policy, {
    newest: async () => 0,
  });
});

async function run(
  source: string,
  variables: Record<string, unknown>,
  channel: Channel = "APP",
  scopes: Scope[] = ["webhooks:write"],
) {
  const caller: Caller = { sub: "op-1", channel, scopes: new Set(scopes) };
  const contextValue = {
    caller,
    requestId: "r-1",
    now: () => new Date("2026-12-05T08:00:00.000Z"),
    effects: new EffectScope(),
    webhooks,
  };
  const result = await graphql({ schema, source, variableValues: variables, contextValue });
  const codes = (result.errors ?? []).map((e) => e.extensions["code"]);
  // As the answer goes on the wire (DateTime values are Dates until serialised).
  const data = JSON.parse(JSON.stringify(result.data ?? null)) as Answer | null;
  return { data, codes };
}

describe("the webhook operations of contract v3 (resolvers/webhook-resolver.ts)", () => {
  it("register, list, rotate, deliveries, disable: the token's channel owns the webhook; the secret is shown once", async () => {
    const registered = await run(REGISTER, {
      input: { url: "https://hooks.example.com/cards", types: ["CARD_CANCELLED"] },
    });
    expect(registered.codes).toEqual([]);
    const { webhook, secret } = registered.data!["registerWebhook"];
    expect(secret).toMatch(/^whsec_/);
    expect(webhook).toMatchObject({
      url: "https://hooks.example.com/cards",
      types: ["CARD_CANCELLED"],
      status: "ACTIVE",
      createdAt: "2026-12-05T08:00:00.000Z",
    });
    const listed = await run(LIST, {});
    expect(listed.data!["webhooks"]).toEqual([webhook]);
    expect(JSON.stringify(listed.data)).not.toContain(secret);
    expect((await run(LIST, {}, "WECHAT")).data!["webhooks"]).toEqual([]);

    const rotated = await run(ROTATE, { input: { webhookId: webhook.id } });
    expect(rotated.data!["rotateWebhookSecret"].secret).not.toBe(secret);
    expect(
      (await run(DELIVERIES, { webhookId: webhook.id, first: 5 })).data!["webhookDeliveries"],
    ).toEqual([]);

    // Another channel's webhook is NOT_FOUND, whatever the operation.
    for (const [source, variables] of [
      [ROTATE, { input: { webhookId: webhook.id } }],
      [DISABLE, { input: { webhookId: webhook.id } }],
      [DELIVERIES, { webhookId: webhook.id }],
    ] as const)
      expect((await run(source, variables, "WECHAT")).codes).toEqual(["NOT_FOUND"]);

    const disabled = await run(DISABLE, { input: { webhookId: webhook.id } });
    expect(disabled.data!["disableWebhook"]).toEqual({
      webhook: { id: webhook.id, status: "DISABLED" },
    });
  });

  it("FORBIDDEN without webhooks:write; BAD_USER_INPUT for a refused URL", async () => {
    for (const [source, variables] of [
      [REGISTER, { input: { url: "https://hooks.example.com/" } }],
      [LIST, {}],
      [DELIVERIES, { webhookId: "wh_1" }],
    ] as const)
      expect((await run(source, variables, "APP", ["events:read"])).codes).toEqual(["FORBIDDEN"]);
    expect((await run(REGISTER, { input: { url: "http://hooks.example.com/" } })).codes).toEqual([
      "BAD_USER_INPUT",
    ]);
  });
});
