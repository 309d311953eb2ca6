import { Inbox, type HubEvent } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { buildBankAccountsParts } from "../subgraph.js";

const client = useTestMongo();

function cardEvent(id: string, change: string, status: string, cardVersion: number): HubEvent {
  return {
    id,
    type: "CardStatusChanged",
    payload: {
      cardId: "c_1",
      personId: "p_1",
      province: "11",
      issuingBank: "中国银行",
      status,
      expiresAt: "2036-01-01T00:00:00.000Z",
      cardVersion,
      change,
      fromStatus: "LOST",
    },
    actor: "counter",
    channel: "COUNTER",
    occurredAt: new Date().toISOString(),
    source: "cards",
  };
}

describe("event order: the bank applies only a newer card change (replica clocks may disagree)", () => {
  it("R-BANK-3: a cancellation (version 3) that overtook a loss withdrawal (version 2) is not undone by it", async () => {
    const db = client().db(`bank_order_${Math.random().toString(36).slice(2, 10)}`);
    const { accounts, handlers } = await buildBankAccountsParts(db);
    const inbox = new Inbox("bank-accounts", handlers);
    const expiresAt = new Date("2036-01-01T00:00:00Z");
    await accounts.accounts.insertOne({
      _id: "b_1",
      cardId: "c_1",
      bank: "中国银行",
      accountNumber: "6216610000000000000",
      status: "LOSS_REPORTED",
      activatedAt: new Date("2026-01-01T00:00:00Z"),
      card: { status: "LOST", expiresAt, version: 1 },
      version: 2,
      updatedAt: new Date("2026-01-01T00:00:00Z"),
    });
    const applied = await inbox.applyBatch([
      cardEvent("e3", "CANCELLED", "CANCELLED", 3),
      cardEvent("e2", "LOSS_REPORT_WITHDRAWN", "NORMAL", 2),
    ]);
    expect(applied).toMatchObject({ applied: 2, failed: null });
    expect(await accounts.accounts.findOne({ _id: "b_1" })).toMatchObject({
      status: "CANCELLATION_REQUIRED",
      bankState: "ACTIVE",
      card: { status: "CANCELLED", version: 3 },
    });
  });
});
