import { describe, expect, it } from "vitest";
import { CARD_EVENT_TYPES } from "./card-event-types.js";
import { feedChangeOf, type FeedSource } from "./event-mapping.js";

const card = {
  cardId: "c_1",
  personId: "p_1",
  province: "44",
  issuingBank: "中国工商银行",
  expiresAt: "2036-12-01T00:00:00.000Z",
  cardVersion: 2,
};

const changed = (change: string, fromStatus: string | null, status: string): FeedSource => ({
  type: "CardStatusChanged",
  payload: { ...card, status, change, fromStatus },
});

describe("which log entry a received event becomes (rules/event-mapping.ts)", () => {
  it("a card's issue and each of its changes, by the change the cards subgraph names", () => {
    expect(
      feedChangeOf({
        type: "CardIssued",
        payload: { ...card, status: "ARCHIVED", cardVersion: 1, replacesId: null },
      }),
    ).toEqual({
      type: "CARD_ISSUED",
      cardId: "c_1",
      personId: "p_1",
      statusBefore: null,
      statusAfter: "ARCHIVED",
    });
    const cases: [string, string, string, string][] = [
      ["SOCIAL_FUNCTION_ENABLED", "ARCHIVED", "NORMAL", "SOCIAL_SECURITY_FUNCTION_ENABLED"],
      ["LOSS_REPORTED_TEMPORARY", "NORMAL", "TEMPORARY_LOSS", "LOSS_REPORTED"],
      ["LOSS_REPORTED_FORMAL", "TEMPORARY_LOSS", "LOST", "LOSS_REPORTED"],
      ["LOSS_REPORT_WITHDRAWN", "LOST", "NORMAL", "LOSS_WITHDRAWN"],
      ["CANCELLED", "NORMAL", "CANCELLED", "CARD_CANCELLED"],
      ["REPLACED", "LOST", "CANCELLED", "CARD_REPLACED"],
      ["ELECTRONIC_CARD_ISSUED", "ARCHIVED", "NORMAL", "ELECTRONIC_CARD_ISSUED"],
    ];
    for (const [change, before, after, type] of cases)
      expect(feedChangeOf(changed(change, before, after)), change).toEqual({
        type,
        cardId: "c_1",
        personId: "p_1",
        statusBefore: before,
        statusAfter: after,
      });
  });

  it("changes that keep the card's status come as CardUpdated and map alike", () => {
    for (const [change, type] of [
      ["COLLECTED", "CARD_COLLECTED"],
      ["ELECTRONIC_CARD_ISSUED", "ELECTRONIC_CARD_ISSUED"],
      ["SOCIAL_FUNCTION_ENABLED", "SOCIAL_SECURITY_FUNCTION_ENABLED"],
    ])
      expect(
        feedChangeOf({
          type: "CardUpdated",
          payload: { ...card, status: "NORMAL", change: change!, fromStatus: "NORMAL" },
        })?.type,
      ).toBe(type);
  });

  it("a card change it does not know is an error (the event waits), never a silent drop", () => {
    expect(() => feedChangeOf(changed("TELEPORTED", "NORMAL", "NORMAL"))).toThrow(/TELEPORTED/);
  });

  it("passwords: a card password's lock and reset, the person's electronic-card lock", () => {
    const password = (change: "LOCKED" | "RESET", fromState: string, state: string) =>
      feedChangeOf({
        type: "CardPasswordStateChanged",
        payload: { cardId: "c_1", personId: "p_1", change, fromState, state },
      });
    expect(password("LOCKED", "SET", "LOCKED")).toEqual({
      type: "CARD_PASSWORD_LOCKED",
      cardId: "c_1",
      personId: "p_1",
      statusBefore: "SET",
      statusAfter: "LOCKED",
    });
    expect(password("RESET", "LOCKED", "INITIAL")?.type).toBe("CARD_PASSWORD_RESET");
    expect(
      feedChangeOf({
        type: "ElectronicPasswordLocked",
        payload: { personId: "p_1", lockedUntil: "2026-12-02T08:00:00.000Z" },
      }),
    ).toEqual({
      type: "ELECTRONIC_PASSWORD_LOCKED",
      cardId: null,
      personId: "p_1",
      statusBefore: "SET",
      statusAfter: "LOCKED",
    });
  });

  it("bank: the activation and the cancellation; statuses that follow the card are not its own", () => {
    expect(
      feedChangeOf({
        type: "FinancialFunctionActivated",
        payload: {
          cardId: "c_1",
          agent: null,
          accountVersion: 2,
          personId: "p_1",
          fromStatus: "NOT_ACTIVATED",
          status: "ACTIVE",
        },
      }),
    ).toEqual({
      type: "FINANCIAL_FUNCTION_ACTIVATED",
      cardId: "c_1",
      personId: "p_1",
      statusBefore: "NOT_ACTIVATED",
      statusAfter: "ACTIVE",
    });
    const account = (fromStatus: string | null, status: string) =>
      feedChangeOf({
        type: "BankAccountStatusChanged",
        payload: { cardId: "c_1", status, accountVersion: 3, personId: "p_1", fromStatus },
      });
    expect(account("CANCELLATION_REQUIRED", "CANCELLED")?.type).toBe("BANK_ACCOUNT_CANCELLED");
    expect(account("NOT_ACTIVATED", "ACTIVE")).toBeNull();
    expect(account("ACTIVE", "LOSS_REPORTED")).toBeNull();
    expect(account("ACTIVE", "CANCELLATION_REQUIRED")).toBeNull();
    expect(account(null, "NOT_ACTIVATED")).toBeNull();
    expect(account("CANCELLED", "CANCELLED")).toBeNull();
  });

  it("an older producer's event without the holder or the status before still maps", () => {
    expect(
      feedChangeOf({
        type: "FinancialFunctionActivated",
        payload: { cardId: "c_1", agent: null, accountVersion: 2 },
      }),
    ).toEqual({
      type: "FINANCIAL_FUNCTION_ACTIVATED",
      cardId: "c_1",
      personId: null,
      statusBefore: null,
      statusAfter: null,
    });
  });

  it("names only the contract's 13 types", () => {
    expect(CARD_EVENT_TYPES).toHaveLength(13);
  });
});
