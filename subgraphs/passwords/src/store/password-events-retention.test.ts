import {
  createLogger,
  DEFAULT_PASSWORD_AUDIT_RETENTION_DAYS,
  loadSubgraphEnv,
  startRetentionSweep,
  type Caller,
} from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { PasswordRepository } from "./password-repository.js";

const client = useTestMongo();
const caller: Caller = { sub: "t", channel: "COUNTER", scopes: new Set() };
const DAY_MS = 86_400_000;

describe("password_events: the audit trail is kept HUB_PASSWORD_AUDIT_RETENTION_DAYS, then swept", () => {
  it("the subgraph's retention sweep removes events older than the period and keeps the recent ones", async () => {
    const db = client().db(`password_audit_${Math.random().toString(36).slice(2, 10)}`);
    const passwords = new PasswordRepository(db);
    await passwords.ensureIndexes();
    const now = new Date();
    const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
    const ages = { ancient: 800, expired: 366, kept: 364, recent: 2 };
    for (const [subject, age] of Object.entries(ages))
      await passwords.audit.record({
        subject,
        kind: "CARD",
        type: "CHANGED",
        at: daysAgo(age),
        caller,
      });

    // The sweep as startHubSubgraph starts it for the passwords subgraph: the idempotency
    // records and the audit trail its wiring (subgraph.ts) adds.
    const sweep = startRetentionSweep(
      [
        { collection: db.collection("idempotency_keys"), field: "createdAt", keepMs: DAY_MS },
        passwords.audit.retainedFor(DEFAULT_PASSWORD_AUDIT_RETENTION_DAYS * DAY_MS),
      ],
      createLogger("retention-test", "silent"),
    );
    try {
      expect(await sweep.sweep(now)).toBe(2);
    } finally {
      sweep.stop();
    }
    const left = await passwords.audit.events.find().toArray();
    expect(left.map((e) => e.subject).sort()).toEqual(["kept", "recent"]);
  });

  it("defaults to 365 days; a bad value stops the start-up, naming the variable", () => {
    expect(DEFAULT_PASSWORD_AUDIT_RETENTION_DAYS).toBe(365);
    const env = {
      MONGODB_URI: "mongodb://127.0.0.1:27017/",
      HUB_JWT_SECRET: "a-development-secret-of-32-characters!",
    };
    expect(loadSubgraphEnv("PASSWORDS_PORT", 4003, env).HUB_PASSWORD_AUDIT_RETENTION_DAYS).toBe(
      365,
    );
    expect(
      loadSubgraphEnv("PASSWORDS_PORT", 4003, { ...env, HUB_PASSWORD_AUDIT_RETENTION_DAYS: "3650" })
        .HUB_PASSWORD_AUDIT_RETENTION_DAYS,
    ).toBe(3650);
    for (const bad of ["0", "1.5", "days"])
      expect(() =>
        loadSubgraphEnv("PASSWORDS_PORT", 4003, { ...env, HUB_PASSWORD_AUDIT_RETENTION_DAYS: bad }),
      ).toThrow(/HUB_PASSWORD_AUDIT_RETENTION_DAYS/);
  });
});
