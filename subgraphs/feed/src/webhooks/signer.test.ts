import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { LogEntry } from "./card-event-source.js";
import { newSigningSecret } from "./secrets.js";
import { signedHeaders, webhookBody } from "./signer.js";

const entry: LogEntry = {
  seq: 7,
  eventId: "ev_1",
  cursor: "eyJ2IjoxfQ",
  type: "LOSS_REPORTED",
  occurredAt: new Date("2026-12-05T08:00:00.000Z"),
  channel: "APP",
  statusBefore: "NORMAL",
  statusAfter: "TEMPORARY_LOSS",
  cardId: "c_1",
  personId: "p_1",
  recordedAt: new Date("2026-12-05T08:00:01.000Z"),
};

describe("Standard Webhooks signing (webhooks/signer.ts)", () => {
  it("the thin body: type, timestamp and the event's data, nothing else", () => {
    const body = JSON.parse(webhookBody(entry)) as Record<string, unknown>;
    expect(body).toEqual({
      type: "LOSS_REPORTED",
      timestamp: "2026-12-05T08:00:00.000Z",
      data: {
        eventId: "ev_1",
        cursor: "eyJ2IjoxfQ",
        cardId: "c_1",
        personId: "p_1",
        type: "LOSS_REPORTED",
        statusBefore: "NORMAL",
        statusAfter: "TEMPORARY_LOSS",
        occurredAt: "2026-12-05T08:00:00.000Z",
        channel: "APP",
      },
    });
    // Fields the log keeps that the receiver has no need of stay out.
    const extra = { ...entry, idNumber: "110101199003070011", name: "张三", accountNumber: "6222" };
    expect(webhookBody(extra)).toBe(webhookBody(entry));
  });

  it("webhook-id is the event id, the timestamp whole seconds, one v1 signature per secret", () => {
    const [current, previous] = [newSigningSecret(), newSigningSecret()];
    const body = webhookBody(entry);
    const now = new Date();
    const headers = signedHeaders(entry.eventId, now, body, [current, previous]);
    expect(headers["webhook-id"]).toBe("ev_1");
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(now.getTime() / 1000)));
    const signatures = headers["webhook-signature"].split(" ");
    expect(signatures).toHaveLength(2);
    for (const signature of signatures) expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // Each secret alone verifies (the receiver knows one of them), the library's own verify.
    expect(new Webhook(current).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSigningSecret()).verify(body, { ...headers })).toThrow(
      /No matching signature/,
    );
    expect(() => new Webhook(current).verify(body + " ", { ...headers })).toThrow();
  });

  it("a retry has the same id and body, a new timestamp and signature", () => {
    const secret = newSigningSecret();
    const body = webhookBody(entry);
    const first = signedHeaders("ev_1", new Date(Date.now() - 5_000), body, [secret]);
    const retry = signedHeaders("ev_1", new Date(), body, [secret]);
    expect(retry["webhook-id"]).toBe(first["webhook-id"]);
    expect(retry["webhook-timestamp"]).not.toBe(first["webhook-timestamp"]);
    expect(retry["webhook-signature"]).not.toBe(first["webhook-signature"]);
    expect(() => signedHeaders("ev_1", new Date(), body, [])).toThrow(/at least one/);
  });
});
