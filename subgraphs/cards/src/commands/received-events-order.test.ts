import { Inbox, type HubEvent } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { buildCardsParts } from "../subgraph.js";
import type { CardDocument } from "../store/card-document.js";

const client = useTestMongo();

/**
 * Two replicas of bank-accounts whose clocks disagree: the account's later change is enqueued
 * with an earlier time, so the relay delivers it first. The account version decides, not the
 * order of arrival.
 */
function statusEvent(id: string, status: string, accountVersion: number, at: string): HubEvent {
  return {
    id,
    type: "BankAccountStatusChanged",
    payload: { cardId: "c_1", status, accountVersion },
    actor: "bank",
    channel: "BANK_COUNTER",
    occurredAt: at,
    source: "bank-accounts",
  };
}

describe("event order: a mirror applies only what is newer (replica clocks may disagree)", () => {
  it("the cards subgraph's bank-account mirror keeps the newest status whatever the order of arrival", async () => {
    const db = client().db(`event_order_${Math.random().toString(36).slice(2, 10)}`);
    const { cards: repository, handlers } = await buildCardsParts(db);
    const inbox = new Inbox("cards", handlers);
    await repository.cards.insertOne({
      _id: "c_1",
      personId: "p_1",
      bankAccountStatus: "NOT_ACTIVATED",
      bankAccountVersion: 1,
    } as CardDocument);
    // Version 3 (cancellation required) was enqueued by a replica whose clock is behind.
    await inbox.applyBatch([
      statusEvent("e3", "CANCELLATION_REQUIRED", 3, "2026-12-01T09:00:00Z"),
      statusEvent("e2", "ACTIVE", 2, "2026-12-01T09:00:05Z"),
    ]);
    expect(await repository.cards.findOne({ _id: "c_1" })).toMatchObject({
      bankAccountStatus: "CANCELLATION_REQUIRED",
      bankAccountVersion: 3,
    });
  });
});
