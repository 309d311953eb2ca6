import fc from "fast-check";
import { EffectScope, HubError, type Caller, type ReceivedEvent } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import type { Document } from "mongodb";
import { describe, expect, it } from "vitest";
import { activate, cancel } from "../rules/account-rules.js";
import { buildBankAccountsParts, type BankAccountsParts } from "../subgraph.js";
import type { BankAccountDocument } from "../store/bank-account-document.js";
import { cardHistory, type CardVersion } from "../testing/card-history.js";

/** Filters of every update/delete sent to bank_accounts (R-BANK shard key: {cardId}). */
const accountWrites: { op: string; filter: Document }[] = [];
const client = useTestMongo({
  onCommand: (event) => {
    const command = event.command as Document;
    if (command["update"] === "bank_accounts")
      for (const update of command["updates"] as { q: Document }[])
        accountWrites.push({ op: "update", filter: update.q });
    if (command["delete"] === "bank_accounts")
      for (const deletion of command["deletes"] as { q: Document }[])
        accountWrites.push({ op: "delete", filter: deletion.q });
    if (command["findAndModify"] === "bank_accounts")
      accountWrites.push({ op: "findAndModify", filter: command["query"] as Document });
  },
});

const caller: Caller = { sub: "bank-teller-1", channel: "BANK_COUNTER", scopes: new Set() };
const now = new Date("2026-12-01T09:00:00Z");
const expiresAt = "2036-03-01T00:00:00.000Z";

let databases = 0;
async function parts(): Promise<BankAccountsParts> {
  databases += 1;
  const db = client().db(`bank_conv_${databases}_${Math.random().toString(36).slice(2, 8)}`);
  return buildBankAccountsParts(db);
}

type CardEvent = ReceivedEvent<"CardIssued"> | ReceivedEvent<"CardStatusChanged">;

function cardEvent(cardId: string, v: CardVersion): CardEvent {
  const state = {
    cardId,
    personId: "p_1",
    province: "44",
    issuingBank: "中国银行",
    status: v.status,
    expiresAt,
    cardVersion: v.version,
  };
  const common = {
    // A redelivery is the same event: the id is the version's.
    id: `${cardId}:v${v.version}`,
    actor: "counter-1",
    channel: "COUNTER" as const,
    occurredAt: now.toISOString(),
    source: "cards",
  };
  return v.change === null
    ? { ...common, type: "CardIssued", payload: { ...state, replacesId: null } }
    : {
        ...common,
        type: "CardStatusChanged",
        payload: { ...state, change: v.change, fromStatus: v.fromStatus },
      };
}

/**
 * Applies one event as the relay would: a handler that throws is retried (a lost race on the
 * account's version is transient); anything else is a test failure.
 */
async function deliver(p: BankAccountsParts, event: CardEvent): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (event.type === "CardIssued") await p.handlers.CardIssued(event, new EffectScope());
      else await p.handlers.CardStatusChanged(event, new EffectScope());
      return;
    } catch (error) {
      if (attempt >= 8 || !(error instanceof HubError && error.code === "CONFLICT")) throw error;
    }
  }
}

type BankAction = "activate" | "cancel";

/** The bank's own decision at its counter: its outcome, and the card version it decided on. */
async function bankAction(
  p: BankAccountsParts,
  cardId: string,
  action: BankAction,
  key: string,
): Promise<{ outcome: string; mirrorVersion: number }> {
  const before = await p.accounts.accounts.findOne({ cardId });
  const mirrorVersion = before?.card?.version ?? 0;
  try {
    await p.commands.change(
      action === "activate" ? "activateFinancialFunction" : "cancelBankAccount",
      cardId,
      action === "activate" ? activate : cancel,
      { caller, now, key, effects: null },
    );
    return { outcome: "OK", mirrorVersion };
  } catch (error) {
    if (error instanceof HubError) return { outcome: error.code, mirrorVersion };
    throw error;
  }
}

/** What the account says, as far as the order of events must not matter. */
async function finalView(p: BankAccountsParts, cardId: string) {
  const docs = await p.accounts.accounts.find({ cardId }).toArray();
  expect(docs.length).toBeLessThanOrEqual(1);
  const doc: BankAccountDocument | undefined = docs[0];
  if (!doc) return null;
  // The cards subgraph keeps the newest announced status (by accountVersion): it must be this one.
  const announced = (
    await p.outbox.events
      .find({ type: "BankAccountStatusChanged", "payload.cardId": cardId })
      .toArray()
  ).map((e) => e.payload as { status: string; accountVersion: number });
  const newest = announced.sort((a, b) => b.accountVersion - a.accountVersion)[0];
  return {
    status: doc.status,
    bankState: doc.bankState,
    card: doc.card ?? null,
    activated: doc.activatedAt !== null,
    bank: doc.bank,
    announced: newest?.status ?? null,
  };
}

/** Deliveries in some order, some at once, with duplicates, and the bank's own decisions. */
const scenarios = fc
  .record({
    instant: fc.boolean(),
    picks: fc.array(fc.record({ p: fc.integer({ min: 0, max: 99 }), gap: fc.boolean() }), {
      maxLength: 7,
    }),
  })
  .chain(({ instant, picks }) => {
    const history = cardHistory(instant, picks);
    const n = history.length;
    return fc.record({
      history: fc.constant(history),
      copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
      // Sort keys of each copy: shrinking towards 0 shrinks towards in-order delivery.
      keys: fc.array(fc.nat({ max: 1000 }), { minLength: 3 * n, maxLength: 3 * n }),
      // Whether a delivery runs at once with the one before it (concurrent delivery).
      together: fc.array(fc.boolean(), { minLength: 3 * n, maxLength: 3 * n }),
      bank: fc.array(
        fc.record({ action: fc.constantFrom<BankAction>("activate", "cancel"), at: fc.nat() }),
        { maxLength: 2 },
      ),
    });
  });

type Scenario = typeof scenarios extends fc.Arbitrary<infer S> ? S : never;

/** The delivery steps of a scenario: groups of events applied at once, and bank actions. */
function stepsOf(s: Scenario): ({ events: CardVersion[] } | { bank: BankAction })[] {
  const copies = s.history.flatMap((v, i) =>
    Array.from({ length: s.copies[i]! }, (_, c) => ({ v, key: s.keys[3 * i + c]! })),
  );
  copies.sort((a, b) => a.key - b.key);
  const groups: CardVersion[][] = [];
  copies.forEach(({ v }, j) => {
    if (j > 0 && s.together[j]) groups.at(-1)!.push(v);
    else groups.push([v]);
  });
  const steps: ({ events: CardVersion[] } | { bank: BankAction })[] = groups.map((events) => ({
    events,
  }));
  const bank = s.bank.map((b) => ({ ...b, at: b.at % (steps.length + 1) }));
  for (const b of [...bank].sort((x, y) => y.at - x.at)) steps.splice(b.at, 0, { bank: b.action });
  return steps;
}

describe("card events in any order converge on the bank account (R-BANK-3)", () => {
  it("R-BANK-3: any order, duplication, delay or concurrent delivery of one card's events ends as in-order delivery does", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarios, async (scenario) => {
        run += 1;
        const p = await parts();
        const shuffled = `c_run${run}`;
        const ordered = `c_ref${run}`;
        // Any order: groups of deliveries at once (a redelivery racing the first), bank in between.
        const decisions: { action: BankAction; outcome: string; mirrorVersion: number }[] = [];
        for (const [i, step] of stepsOf(scenario).entries()) {
          if ("bank" in step)
            decisions.push({
              action: step.bank,
              ...(await bankAction(p, shuffled, step.bank, `k${i}`)),
            });
          else await Promise.all(step.events.map((v) => deliver(p, cardEvent(shuffled, v))));
        }
        // In order: each bank decision after the card versions it was decided on.
        let next = 0;
        for (const [i, d] of decisions.entries()) {
          while (
            next < scenario.history.length &&
            scenario.history[next]!.version <= d.mirrorVersion
          )
            await deliver(p, cardEvent(ordered, scenario.history[next++]!));
          expect((await bankAction(p, ordered, d.action, `k${i}`)).outcome).toBe(d.outcome);
        }
        while (next < scenario.history.length)
          await deliver(p, cardEvent(ordered, scenario.history[next++]!));

        const expected = await finalView(p, ordered);
        expect(expected).not.toBeNull();
        expect(expected!.announced).toBe(expected!.status);
        expect(expected!.card).toMatchObject({
          status: scenario.history.at(-1)!.status,
          version: scenario.history.at(-1)!.version,
        });
        expect(await finalView(p, shuffled)).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

const v = (version: number, status: string, change: string | null, fromStatus: string | null) => ({
  version,
  status,
  change,
  fromStatus,
});

describe("R-BANK-3: card events late, early or at once on one account", () => {
  it("R-BANK-3: formal loss v2, temporary loss v4 and withdrawal v3, arriving v2, v4, v3 after activation, leave the account ACTIVE", async () => {
    const p = await parts();
    await deliver(p, cardEvent("c_1", v(1, "NORMAL", null, null)));
    expect((await bankAction(p, "c_1", "activate", "a1")).outcome).toBe("OK");
    await deliver(p, cardEvent("c_1", v(2, "LOST", "LOSS_REPORTED_FORMAL", "NORMAL")));
    expect((await finalView(p, "c_1"))!.status).toBe("LOSS_REPORTED");
    await deliver(p, cardEvent("c_1", v(4, "TEMPORARY_LOSS", "LOSS_REPORTED_TEMPORARY", "NORMAL")));
    await deliver(p, cardEvent("c_1", v(3, "NORMAL", "LOSS_REPORT_WITHDRAWN", "LOST")));
    expect(await finalView(p, "c_1")).toMatchObject({
      status: "ACTIVE",
      bankState: "ACTIVE",
      card: { status: "TEMPORARY_LOSS", version: 4 },
      announced: "ACTIVE",
    });
  });

  it("R-BANK-3: a card change arriving before CardIssued opens the account with the card's state", async () => {
    const p = await parts();
    await deliver(p, cardEvent("c_2", v(2, "CANCELLED", "CANCELLED", "ARCHIVED")));
    await deliver(p, cardEvent("c_2", v(1, "ARCHIVED", null, null)));
    expect(await finalView(p, "c_2")).toMatchObject({
      status: "CANCELLATION_REQUIRED",
      bankState: "NOT_ACTIVATED",
      card: { status: "CANCELLED", version: 2 },
      bank: "中国银行",
      announced: "CANCELLATION_REQUIRED",
    });
  });

  it("R-BANK-3: CardIssued and a later change delivered at once open one account, with the newer state", async () => {
    const p = await parts();
    for (let i = 0; i < 5; i++) {
      const cardId = `c_race${i}`;
      await Promise.all([
        deliver(p, cardEvent(cardId, v(1, "ARCHIVED", null, null))),
        deliver(p, cardEvent(cardId, v(2, "LOST", "LOSS_REPORTED_FORMAL", "ARCHIVED"))),
        deliver(p, cardEvent(cardId, v(2, "LOST", "LOSS_REPORTED_FORMAL", "ARCHIVED"))),
      ]);
      expect(await p.accounts.accounts.countDocuments({ cardId })).toBe(1);
      expect(await finalView(p, cardId)).toMatchObject({
        status: "NOT_ACTIVATED",
        card: { status: "LOST", version: 2 },
      });
    }
  });

  it("R-BANK-3: an account stored before the bank kept its own state keeps its status and follows newer card changes", async () => {
    const p = await parts();
    const stored = (cardId: string, status: BankAccountDocument["status"], activated: boolean) => ({
      _id: `b_${cardId}`,
      cardId,
      bank: "中国银行",
      accountNumber: "6216610000000000000",
      status,
      activatedAt: activated ? new Date("2026-01-01T00:00:00Z") : null,
      version: 1,
      updatedAt: new Date("2026-01-01T00:00:00Z"),
    });
    await p.accounts.accounts.insertMany([
      stored("c_old1", "LOSS_REPORTED", true),
      stored("c_old2", "CANCELLATION_REQUIRED", false),
      stored("c_old3", "ACTIVE", true),
    ]);
    // No mirror yet: the bank decides on the stored status (CANCELLATION_REQUIRED is not activated).
    expect((await bankAction(p, "c_old2", "activate", "a")).outcome).toBe("INVALID_TRANSITION");
    expect((await bankAction(p, "c_old3", "cancel", "c")).outcome).toBe("OK");
    await deliver(p, cardEvent("c_old1", v(3, "NORMAL", "LOSS_REPORT_WITHDRAWN", "LOST")));
    expect(await finalView(p, "c_old1")).toMatchObject({ status: "ACTIVE", bankState: "ACTIVE" });
    expect(await finalView(p, "c_old2")).toMatchObject({ status: "CANCELLATION_REQUIRED" });
    expect(await finalView(p, "c_old3")).toMatchObject({
      status: "CANCELLED",
      bankState: "CANCELLED",
    });
  });

  it("R-BANK-3: every update of bank_accounts is addressed by its shard key {cardId}", async () => {
    const p = await parts();
    accountWrites.length = 0;
    await deliver(p, cardEvent("c_s", v(1, "ARCHIVED", null, null)));
    expect((await bankAction(p, "c_s", "activate", "a")).outcome).toBe("OK");
    await deliver(p, cardEvent("c_s", v(3, "LOST", "LOSS_REPORTED_FORMAL", "ARCHIVED")));
    await deliver(p, cardEvent("c_s", v(2, "NORMAL", "SOCIAL_FUNCTION_ENABLED", "ARCHIVED")));
    expect((await bankAction(p, "c_s", "cancel", "c")).outcome).toBe("OK");
    expect(accountWrites.length).toBeGreaterThan(0);
    for (const write of accountWrites) expect(write.filter).toHaveProperty("cardId", "c_s");
  });
});
