import { hs256ServiceTokens } from "@hub/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bankStatus, cardView, codeOf, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { startTestHub, TEST_SECRET, type TestHub } from "./support/hub.js";

let hub: TestHub;
let url: string;
beforeAll(async () => {
  hub = await startTestHub({ seed: false });
  url = hub.gateway.url;
});
afterAll(async () => {
  await hub?.stop();
});

/** A card whose bank account has been opened (the CardIssued event reached bank-accounts). */
async function cardWithAccount(): Promise<string> {
  const { cardId } = await personWithCard(url);
  await eventually(async () => expect(await bankStatus(url, cardId)).toBe("NOT_ACTIVATED"));
  return cardId;
}

interface Activation {
  activateFinancialFunction: { bankAccount: { id: string; status: string; bank: string } };
}

describe("bank accounts (R-BANK-*) through the gateway", () => {
  it("R-BANK-1: the financial function is activated only at the bank counter or door to door; any other channel is told why", async () => {
    const cardId = await cardWithAccount();
    for (const channel of ["COUNTER", "APP", "WEBSITE", "PHARMACY"] as const) {
      const refused = await run(
        url,
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: `a-${channel}` },
        channel,
      );
      expect(codeOf(refused)).toBe("CHANNEL_NOT_ALLOWED");
      expect(refused.errors![0]!.message).toMatch(/counter of the card's partner bank/);
    }
    expect(await bankStatus(url, cardId)).toBe("NOT_ACTIVATED");
    const doorToDoor = await run<Activation>(
      url,
      "ActivateFinancialFunction",
      {
        cardId,
        idempotencyKey: "d2d",
        agent: { idNumber: "11010519491231002X", name: "家属", powerOfAttorneyRef: "POA-7" },
      },
      "DOOR_TO_DOOR",
    );
    expect(doorToDoor.data!.activateFinancialFunction.bankAccount).toMatchObject({
      status: "ACTIVE",
      bank: "中国工商银行",
    });
    const again = await run(
      url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "again" },
      "BANK_COUNTER",
    );
    expect(codeOf(again)).toBe("INVALID_TRANSITION");
  });

  it("R-BANK-2: activating the financial function enables the card's social function, recorded as BANK_COUNTER by the original actor", async () => {
    const cardId = await cardWithAccount();
    const activated = await run<Activation>(
      url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "b2" },
      "BANK_COUNTER",
      "bank-teller-3",
    );
    expect(activated.data!.activateFinancialFunction.bankAccount.status).toBe("ACTIVE");
    await eventually(async () => expect((await cardView(url, cardId)).status).toBe("NORMAL"));
    expect((await cardView(url, cardId)).history.at(-1)).toMatchObject({
      type: "SOCIAL_FUNCTION_ENABLED",
      channel: "BANK_COUNTER",
      actor: "bank-teller-3",
    });
  });

  it("R-BANK-3: a cancelled card leaves its account CANCELLATION_REQUIRED until it is cancelled at the bank counter", async () => {
    const cardId = await cardWithAccount();
    await run(url, "ActivateFinancialFunction", { cardId, idempotencyKey: "b3" }, "BANK_COUNTER");
    await run(url, "CancelCard", { cardId, reason: "moved abroad", idempotencyKey: "c3" });
    await eventually(async () =>
      expect(await bankStatus(url, cardId)).toBe("CANCELLATION_REQUIRED"),
    );
    expect(
      codeOf(await run(url, "CancelBankAccount", { cardId, idempotencyKey: "x" }, "COUNTER")),
    ).toBe("CHANNEL_NOT_ALLOWED");
    const cancelled = await run<{ cancelBankAccount: { bankAccount: { status: string } } }>(
      url,
      "CancelBankAccount",
      { cardId, idempotencyKey: "x" },
      "BANK_COUNTER",
    );
    expect(cancelled.data!.cancelBankAccount.bankAccount.status).toBe("CANCELLED");
    // the cards subgraph's mirror follows, so the duplicate advice (R-DUP-2) no longer asks for it
    const mirror = hub.client
      .db(`${hub.dbPrefix}_cards`)
      .collection<{ _id: string; bankAccountStatus: string }>("cards");
    await eventually(async () =>
      expect((await mirror.findOne({ _id: cardId }))!.bankAccountStatus).toBe("CANCELLED"),
    );
  });
});

describe("cross-subgraph effects are never lost", () => {
  it("activation while the cards subgraph is down succeeds, and the card is enabled once it is back — exactly once", async () => {
    const cardId = await cardWithAccount();
    await hub.stopSubgraph("cards");
    try {
      const activated = await run<Activation>(
        url,
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: "down-1" },
        "BANK_COUNTER",
      );
      // The bank's part answers; the card's part (served by the stopped subgraph) says why not,
      // and the answer names the effect still on its way (contract v2).
      expect(activated.data!.activateFinancialFunction.bankAccount.status).toBe("ACTIVE");
      expect(activated.errors?.map((e) => [e.path?.join("."), e.extensions?.["code"]])).toEqual([
        ["activateFinancialFunction.card", "SERVICE_UNAVAILABLE"],
      ]);
      const pending = activated.extensions?.["pendingEffects"] as {
        type: string;
        destination: string;
      }[];
      expect(pending.map((e) => `${e.type} → ${e.destination}`).sort()).toEqual([
        "BankAccountStatusChanged → cards",
        "FinancialFunctionActivated → cards",
      ]);
      // the operator sees the queue waiting
      const outbox = hub.subgraphs.get("bank-accounts")!.url.replace(/graphql$/, "outbox");
      await eventually(async () => {
        const stats = (await (await fetch(outbox)).json()) as {
          pending: number;
          oldestPendingMs: number;
          failedAttempts: number;
        };
        expect(stats.pending).toBeGreaterThan(0);
        expect(stats.failedAttempts).toBeGreaterThan(0);
        expect(stats.oldestPendingMs).toBeGreaterThan(0);
      });
    } finally {
      await hub.startSubgraph("cards");
    }
    await eventually(
      async () => expect((await cardView(url, cardId)).status).toBe("NORMAL"),
      20_000,
    );
    // a relay restart mid-way delivers again; the card records the enabling once
    const relayed = hub.subgraphs.get("bank-accounts")!;
    await relayed.stop();
    hub.subgraphs.delete("bank-accounts");
    await hub.startSubgraph("bank-accounts");
    const history = (await cardView(url, cardId)).history.filter(
      (e) => e.type === "SOCIAL_FUNCTION_ENABLED",
    );
    expect(history).toHaveLength(1);
  });

  it("replaying an already-applied event changes nothing", async () => {
    const cardId = await cardWithAccount();
    await run(
      url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "replay-1" },
      "BANK_COUNTER",
    );
    await eventually(async () => expect((await cardView(url, cardId)).status).toBe("NORMAL"));
    const before = await cardView(url, cardId);
    // Delivered events leave the outbox; the card records the event it applied in its history.
    const stored = await hub.client
      .db(`${hub.dbPrefix}_cards`)
      .collection<{ _id: string; history: { details?: { eventId?: string } }[] }>("cards")
      .findOne({ _id: cardId });
    const appliedId = stored?.history.find((entry) => entry.details?.eventId)?.details?.eventId;
    expect(appliedId).toBeTypeOf("string");
    const event = {
      id: appliedId!,
      type: "FinancialFunctionActivated",
      payload: { cardId },
      actor: "bank-operator",
      channel: "BANK_COUNTER",
      occurredAt: new Date().toISOString(),
      source: "bank-accounts",
    };
    const events = hub.subgraphs.get("cards")!.url.replace(/graphql$/, "events");
    const serviceToken = await hs256ServiceTokens(TEST_SECRET, "bank-accounts")();
    for (let i = 0; i < 3; i++) {
      const response = await fetch(events, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify({ events: [event] }),
      });
      expect(await response.json()).toEqual({ applied: 1, pending: {} });
    }
    expect(await cardView(url, cardId)).toEqual(before);
  });

  it("the /events endpoint accepts only the relay's service token", async () => {
    const events = hub.subgraphs.get("cards")!.url.replace(/graphql$/, "events");
    const body = JSON.stringify({
      events: [
        {
          id: "forged",
          type: "FinancialFunctionActivated",
          payload: { cardId: "c_x" },
          actor: "x",
          channel: "BANK_COUNTER",
          occurredAt: new Date().toISOString(),
          source: "x",
        },
      ],
    });
    expect(
      (
        await fetch(events, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        })
      ).status,
    ).toBe(401);
    const { token } = await import("./support/hub.js");
    const operator = await token();
    expect(
      (
        await fetch(events, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${operator}` },
          body,
        })
      ).status,
    ).toBe(403);
  });
});
