import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { splitOperations } from "@hub/gateway/contract-operations";
import { SCHEMA_DIR } from "@hub/schema";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { graphql, token, useTestHub } from "./support/hub.js";

/**
 * Webhooks (contract v3) through the gateway, as a channel uses them: the contract's operations
 * register, list, rotate and disable a webhook; a real receiver verifies every delivery with the
 * `standardwebhooks` library. (Backoff, 410, the 24 h horizon and address checks are tested with
 * the deliverer itself: subgraphs/feed/src/webhooks/.)
 */

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

const hub = useTestHub();
let operations: Map<string, string>;
let receiver: Server;
let receiverUrl: string;
const received: Delivery[] = [];

beforeAll(async () => {
  const source = await readFile(join(SCHEMA_DIR, "feed.graphql"), "utf8");
  operations = new Map(splitOperations(source).map((op) => [op.name, op.document]));
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
});

async function call<T>(name: string, variables: Record<string, unknown>, bearer: string) {
  return graphql<T>(hub().gateway.url, operations.get(name)!, variables, bearer);
}

interface Registered {
  registerWebhook: {
    webhook: { id: string; status: string; types: string[] | null };
    secret: string;
  };
}

/** Deliveries of `eventType` for `cardId` that reached the receiver. */
function deliveriesFor(cardId: string, eventType: string): Delivery[] {
  return received.filter((d) => {
    const body = JSON.parse(d.body) as { data: { cardId: string; type: string } };
    return body.data.cardId === cardId && body.data.type === eventType;
  });
}

describe("webhooks through the gateway", () => {
  it("a bank registers a webhook, gets each change of a card signed per Standard Webhooks with no personal data, rotates its secret and disables it", async () => {
    const bank = await token({ channel: "BANK_COUNTER", sub: "bank-integration" });
    const registered = await call<Registered>(
      "RegisterWebhook",
      { input: { url: receiverUrl, types: ["LOSS_REPORTED", "LOSS_WITHDRAWN"] } },
      bank,
    );
    expect(registered.errors).toBeUndefined();
    const { webhook, secret } = registered.data!.registerWebhook;
    expect(secret).toMatch(/^whsec_/);
    expect(webhook).toMatchObject({ status: "ACTIVE", types: ["LOSS_REPORTED", "LOSS_WITHDRAWN"] });

    // Another channel sees none of it.
    const app = await token({ channel: "APP", sub: "app-integration" });
    const othersView = await call<{ webhooks: unknown[] }>("Webhooks", {}, app);
    expect(othersView.data?.webhooks).toEqual([]);
    const othersDeliveries = await call("WebhookDeliveries", { webhookId: webhook.id }, app);
    expect(codeOf(othersDeliveries)).toBe("NOT_FOUND");

    const { cardId, idNumber } = await personWithCard(hub().gateway.url);
    const reported = await run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true });
    expect(reported.errors).toBeUndefined();
    const [loss] = await eventually(async () => {
      const found = deliveriesFor(cardId, "LOSS_REPORTED");
      expect(found).toHaveLength(1);
      return found;
    });
    const verifier = new Webhook(secret);
    const payload = verifier.verify(loss!.body, {
      "webhook-id": String(loss!.headers["webhook-id"]),
      "webhook-timestamp": String(loss!.headers["webhook-timestamp"]),
      "webhook-signature": String(loss!.headers["webhook-signature"]),
    }) as { type: string; data: Record<string, unknown> };
    expect(payload.data).toMatchObject({
      cardId,
      type: "LOSS_REPORTED",
      // Issued, not yet collected: the card was archived when its loss was reported.
      statusBefore: "ARCHIVED",
      statusAfter: "TEMPORARY_LOSS",
      eventId: loss!.headers["webhook-id"],
    });
    // The thin body: no identity number, name or account number (the receiver asks the hub).
    expect(loss!.body).not.toContain(idNumber);
    expect(loss!.body).not.toContain("测试人");
    expect(Object.keys(payload.data).sort()).toEqual(
      [
        "cardId",
        "channel",
        "cursor",
        "eventId",
        "occurredAt",
        "personId",
        "statusAfter",
        "statusBefore",
        "type",
      ].sort(),
    );
    // Only the types asked for: the card's issue was not delivered.
    expect(deliveriesFor(cardId, "CARD_ISSUED")).toEqual([]);

    // Rotation: the next delivery carries both signatures, each verifying with its own secret.
    const rotated = await call<{ rotateWebhookSecret: { secret: string } }>(
      "RotateWebhookSecret",
      { input: { webhookId: webhook.id } },
      bank,
    );
    expect(rotated.errors).toBeUndefined();
    const newSecret = rotated.data!.rotateWebhookSecret.secret;
    expect(newSecret).not.toBe(secret);
    await run(hub().gateway.url, "WithdrawLossReport", { cardId });
    const [withdrawn] = await eventually(async () => {
      const found = deliveriesFor(cardId, "LOSS_WITHDRAWN");
      expect(found).toHaveLength(1);
      return found;
    });
    const headers = {
      "webhook-id": String(withdrawn!.headers["webhook-id"]),
      "webhook-timestamp": String(withdrawn!.headers["webhook-timestamp"]),
      "webhook-signature": String(withdrawn!.headers["webhook-signature"]),
    };
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(() => new Webhook(secret).verify(withdrawn!.body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(withdrawn!.body, headers)).not.toThrow();
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(
        withdrawn!.body,
        headers,
      ),
    ).toThrow();

    // The delivery log, then disabling: nothing more is sent.
    const log = await call<{
      webhookDeliveries: { eventId: string; status: string; attempts: number }[];
    }>("WebhookDeliveries", { webhookId: webhook.id, first: 10 }, bank);
    expect(log.errors).toBeUndefined();
    expect(log.data!.webhookDeliveries.map((d) => [d.status, d.attempts])).toEqual([
      ["DELIVERED", 1],
      ["DELIVERED", 1],
    ]);
    const disabled = await call<{ disableWebhook: { webhook: { status: string } } }>(
      "DisableWebhook",
      { input: { webhookId: webhook.id } },
      bank,
    );
    expect(disabled.data?.disableWebhook.webhook.status).toBe("DISABLED");
    const before = received.length;
    await run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true });
    // The feed logged it (the log is the source of truth); the webhook, disabled, sent nothing.
    await eventually(async () => {
      const answer = await graphql<{ cardEventLog: { events: { type: string }[] } }>(
        hub().gateway.url,
        operations.get("CardEventLog")!,
        { personId: undefined, first: 500 },
        await token(),
      );
      const types = answer.data!.cardEventLog.events.map((e) => e.type);
      expect(types.filter((t) => t === "LOSS_REPORTED").length).toBeGreaterThanOrEqual(2);
    });
    expect(received.length).toBe(before);
  });

  it("registering needs webhooks:write, and a URL the hub may not call is BAD_USER_INPUT", async () => {
    const reader = await token({ scopes: ["cards:read"] });
    const refused = await call("RegisterWebhook", { input: { url: receiverUrl } }, reader);
    expect(codeOf(refused)).toBe("FORBIDDEN");
    const writer = await token();
    const linkLocal = await call(
      "RegisterWebhook",
      { input: { url: "http://169.254.169.254/latest/meta-data" } },
      writer,
    );
    expect(codeOf(linkLocal)).toBe("BAD_USER_INPUT");
    const notHttp = await call(
      "RegisterWebhook",
      { input: { url: "ftp://example.org/x" } },
      writer,
    );
    expect(codeOf(notHttp)).toBe("BAD_USER_INPUT");
  });
});
