import { HubError, type Channel } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { newWebhookId, WebhookStore, type WebhookDocument } from "./webhook-store.js";

const client = useTestMongo();
const at = new Date("2026-12-05T08:00:00.000Z");
const later = (ms: number) => new Date(at.getTime() + ms);

async function store(): Promise<WebhookStore> {
  const s = new WebhookStore(client().db(`wh_store_${Math.random().toString(36).slice(2, 10)}`));
  await s.ensureIndexes();
  return s;
}

function webhook(channel: Channel, extra: Partial<WebhookDocument> = {}): WebhookDocument {
  return {
    _id: newWebhookId(),
    channel,
    url: "https://hooks.example.com/",
    types: null,
    status: "ACTIVE",
    secrets: { current: "v1.sealed", previous: null },
    createdAt: at,
    updatedAt: at,
    position: 0,
    disabledReason: null,
    version: 1,
    ...extra,
  };
}

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  return work.then(
    () => null,
    (error: unknown) => (error instanceof HubError ? error.code : String(error)),
  );
}

describe("webhooks and their deliveries in MongoDB (webhooks/webhook-store.ts)", () => {
  it("a channel sees and changes only its own webhooks: another's is NOT_FOUND", async () => {
    const s = await store();
    const mine = webhook("APP");
    const theirs = webhook("WECHAT", { createdAt: later(1) });
    await s.insert(mine);
    await s.insert(theirs);
    await s.insert(webhook("APP", { createdAt: later(2), status: "DISABLED" }));
    expect((await s.listByChannel("APP")).map((w) => w.channel)).toEqual(["APP", "APP"]);
    expect(await s.countLive("APP")).toBe(1);
    expect((await s.ofChannel("APP", mine._id))._id).toBe(mine._id);
    expect(await codeOf(s.ofChannel("APP", theirs._id))).toBe("NOT_FOUND");
    expect(await codeOf(s.disableOfChannel("APP", theirs._id, at))).toBe("NOT_FOUND");
    expect(await codeOf(s.deliveriesOf("APP", theirs._id, null))).toBe("NOT_FOUND");
    expect((await s.byId(theirs._id))?.status).toBe("ACTIVE");
  });

  it("secrets are replaced only over the version that was read (optimistic)", async () => {
    const s = await store();
    const w = webhook("APP");
    await s.insert(w);
    const next = { current: "v1.new", previous: { sealed: "v1.sealed", expiresAt: later(1) } };
    const updated = await s.replaceSecrets("APP", w._id, 1, next, later(5));
    expect(updated).toMatchObject({ version: 2, secrets: next, updatedAt: later(5) });
    expect(await s.replaceSecrets("APP", w._id, 1, next, later(6))).toBeNull();
    expect(await s.replaceSecrets("WECHAT", w._id, 2, next, later(6))).toBeNull();
  });

  it("one delivery document per webhook and event, updated in place; listed newest first, bounded", async () => {
    const s = await store();
    const w = webhook("APP");
    await s.insert(w);
    const attempt = (eventId: string, seq: number, attempts: number, ms: number) =>
      s.recordAttempt({
        webhook: w,
        eventId,
        seq,
        status: attempts < 3 ? "RETRYING" : "DELIVERED",
        attempts,
        previousAttempts: attempts - 1,
        at: later(ms),
        nextAttemptAt: attempts < 3 ? later(ms + 1_000) : null,
        responseStatus: attempts < 3 ? 500 : 200,
        lastError: attempts < 3 ? "HTTP 500" : null,
      });
    for (const n of [1, 2, 3]) await attempt("ev_1", 1, n, n * 1_000);
    await attempt("ev_2", 2, 1, 5_000);
    expect(await s.deliveries.countDocuments({})).toBe(2);
    expect(await s.delivery(w._id, "ev_1")).toMatchObject({
      status: "DELIVERED",
      attempts: 3,
      firstAttemptAt: later(1_000),
      lastAttemptAt: later(3_000),
      nextAttemptAt: null,
      responseStatus: 200,
      channel: "APP",
    });
    expect((await s.deliveriesOf("APP", w._id, null)).map((d) => d.eventId)).toEqual([
      "ev_2",
      "ev_1",
    ]);
    expect((await s.deliveriesOf("APP", w._id, 1)).map((d) => d.eventId)).toEqual(["ev_2"]);
    for (const first of [0, 101, 1.5])
      expect(await codeOf(s.deliveriesOf("APP", w._id, first))).toBe("BAD_USER_INPUT");
  });

  it("the position only moves forward, and not on a disabled webhook", async () => {
    const s = await store();
    const w = webhook("APP", { position: 5 });
    await s.insert(w);
    await s.advance(w._id, 9, later(1), "FAILING");
    expect(await s.byId(w._id)).toMatchObject({ position: 9, status: "FAILING", version: 2 });
    await s.advance(w._id, 7, later(2), "ACTIVE");
    expect(await s.byId(w._id)).toMatchObject({ position: 9, status: "FAILING" });
    await s.disable(w._id, "its receiver answered 410 Gone", later(3));
    await s.advance(w._id, 12, later(4), "ACTIVE");
    expect(await s.byId(w._id)).toMatchObject({
      position: 9,
      status: "DISABLED",
      disabledReason: "its receiver answered 410 Gone",
    });
    expect((await s.live()).map((l) => l._id)).not.toContain(w._id);
  });

  it("an attempt decided on a record another replica has changed since is not recorded (a stale owner stops)", async () => {
    const s = await store();
    const w = webhook("APP");
    await s.insert(w);
    const record = (status: "DELIVERED" | "RETRYING", attempts: number, previousAttempts: number) =>
      s.recordAttempt({
        webhook: w,
        eventId: "e-stale",
        seq: 1,
        status,
        attempts,
        previousAttempts,
        at: later(attempts),
        nextAttemptAt: status === "RETRYING" ? later(attempts + 1_000) : null,
        responseStatus: status === "RETRYING" ? 500 : 204,
        lastError: null,
      });
    expect(await record("RETRYING", 1, 0)).toBe(true);
    // The successor tried again and delivered it.
    expect(await record("DELIVERED", 2, 1)).toBe(true);
    // The paused first owner comes back with its answer to attempt 1, then to a fresh read.
    expect(await record("RETRYING", 1, 0)).toBe(false);
    expect(await record("RETRYING", 2, 1)).toBe(false);
    expect(await s.deliveriesOf("APP", w._id, 10)).toMatchObject([
      { eventId: "e-stale", status: "DELIVERED", attempts: 2 },
    ]);
  });

  it("disabling fails the deliveries waiting for a retry; pruning keeps the collection bounded", async () => {
    const s = await store();
    const w = webhook("APP");
    await s.insert(w);
    const record = (eventId: string, status: "DELIVERED" | "RETRYING" | "FAILED", ms: number) =>
      s.recordAttempt({
        webhook: w,
        eventId,
        seq: ms,
        status,
        attempts: 1,
        previousAttempts: 0,
        at: later(ms),
        nextAttemptAt: status === "RETRYING" ? later(ms + 1) : null,
        responseStatus: null,
        lastError: null,
      });
    await record("old-delivered", "DELIVERED", 1);
    await record("old-failed", "FAILED", 2);
    await record("new-delivered", "DELIVERED", 100);
    await record("waiting", "RETRYING", 3);
    expect(await s.prune(later(50))).toBe(2);
    expect((await s.deliveries.find({}).toArray()).map((d) => d.eventId).sort()).toEqual([
      "new-delivered",
      "waiting",
    ]);
    const disabled = await s.disableOfChannel("APP", w._id, later(200));
    expect(disabled).toMatchObject({
      status: "DISABLED",
      disabledReason: "disabled by its channel",
    });
    expect(await s.delivery(w._id, "waiting")).toMatchObject({
      status: "FAILED",
      nextAttemptAt: null,
    });
    // Again: no change.
    expect((await s.disableOfChannel("APP", w._id, later(300))).updatedAt).toEqual(later(200));
  });
});
