import { describe, expect, it } from "vitest";
import { cardHeldInProvince, findDuplicates, type DuplicateCandidate } from "./duplicates.js";

let n = 0;
function card(
  province: string,
  status: DuplicateCandidate["status"],
  year: number,
  bank: DuplicateCandidate["bankAccountStatus"] = "ACTIVE",
): DuplicateCandidate {
  n += 1;
  return {
    id: `c${n}`,
    province,
    status,
    issuedAt: new Date(Date.UTC(year, 0, 1)),
    issuingBank: "工商银行",
    bankAccountStatus: bank,
  };
}

describe("R-DUP-1: two or more cards of one person in one province are duplicates", () => {
  it("finds no group when each province has one card", () => {
    expect(findDuplicates([card("11", "NORMAL", 2020), card("44", "NORMAL", 2015)])).toEqual([]);
  });
  it("groups cards by province, oldest first, only where there are two or more", () => {
    const a = card("44", "NORMAL", 2019);
    const b = card("44", "LOST", 2012);
    const groups = findDuplicates([a, card("11", "NORMAL", 2021), b]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.province).toBe("44");
    expect(groups[0]!.cards.map((c) => c.id)).toEqual([b.id, a.id]);
  });
});

describe("R-DUP-2: each duplicate gets a recommended action", () => {
  it("an unavailable card with an open bank account: cancel the account at the bank counter", () => {
    for (const status of ["LOST", "TEMPORARY_LOSS", "CANCELLED"] as const) {
      const open = card("44", status, 2012, "ACTIVE");
      const keep = card("44", "NORMAL", 2020);
      const actions = findDuplicates([open, keep])[0]!.actions;
      expect(actions).toContainEqual({
        cardId: open.id,
        action: "CANCEL_BANK_ACCOUNT_AT_COUNTER",
        reason: expect.stringMatching(/counter/),
      });
      expect(actions).toContainEqual(expect.objectContaining({ cardId: keep.id, action: "KEEP" }));
    }
  });
  it("an unavailable card whose account is closed needs nothing more", () => {
    const closed = card("44", "LOST", 2012, "CANCELLED");
    const keep = card("44", "NORMAL", 2020);
    const actions = findDuplicates([closed, keep])[0]!.actions;
    expect(actions.map((a) => a.cardId)).toEqual([keep.id]);
  });
  it("R-DUP-1: a cancelled (or replaced) card whose account is closed is no longer held: no duplicate group", () => {
    const closed = card("44", "CANCELLED", 2012, "CANCELLED");
    const never = card("44", "CANCELLED", 2014, null);
    const keep = card("44", "NORMAL", 2020);
    expect(findDuplicates([closed, never, keep])).toEqual([]);
    const open = card("44", "CANCELLED", 2016, "CANCELLATION_REQUIRED");
    expect(findDuplicates([open, keep])[0]!.actions.map((a) => a.action)).toEqual([
      "CANCEL_BANK_ACCOUNT_AT_COUNTER",
      "KEEP",
    ]);
  });
  it("R-DUP-1: a card still held in the province blocks issuing another there", () => {
    const held = { id: "c_1", province: "44", status: "LOST" as const, replacedById: null };
    const replaced = {
      id: "c_2",
      province: "11",
      status: "CANCELLED" as const,
      replacedById: "c_3",
    };
    expect(cardHeldInProvince([held, replaced], "44")).toBe(held);
    expect(cardHeldInProvince([held, replaced], "11")).toBeNull();
    expect(cardHeldInProvince([{ ...held, status: "CANCELLED" as const }], "44")).toBeNull();
  });
  it("several NORMAL cards: keep the newest, confirm local use for the others", () => {
    const older = card("31", "NORMAL", 2010);
    const newer = card("31", "NORMAL", 2022);
    const actions = findDuplicates([older, newer])[0]!.actions;
    expect(actions).toContainEqual(expect.objectContaining({ cardId: newer.id, action: "KEEP" }));
    expect(actions).toContainEqual(
      expect.objectContaining({
        cardId: older.id,
        action: "CONFIRM_LOCAL_USE",
        reason: expect.stringMatching(/local employment or social security services/),
      }),
    );
  });
  it("a never-enabled duplicate beside a NORMAL card: cancel it with its bank account", () => {
    const normal = card("51", "NORMAL", 2015);
    const archived = card("51", "ARCHIVED", 2023, "NOT_ACTIVATED");
    const actions = findDuplicates([normal, archived])[0]!.actions;
    expect(actions).toContainEqual(
      expect.objectContaining({ cardId: archived.id, action: "CANCEL_CARD_AND_BANK_ACCOUNT" }),
    );
    expect(actions).toContainEqual(expect.objectContaining({ cardId: normal.id, action: "KEEP" }));
  });
});

describe("R-DUP-1: a replaced card is no longer held", () => {
  it("whatever status it was stored with", () => {
    const replaced = { id: "c_2", province: "44", status: "NORMAL" as const, replacedById: "c_3" };
    expect(cardHeldInProvince([replaced], "44")).toBeNull();
  });
});

describe("R-DUP-2: the recommendations in detail", () => {
  it("groups come sorted by province", () => {
    const groups = findDuplicates([
      card("44", "NORMAL", 2019),
      card("11", "NORMAL", 2018),
      card("44", "NORMAL", 2020),
      card("11", "NORMAL", 2021),
    ]);
    expect(groups.map((g) => g.province)).toEqual(["11", "44"]);
  });
  it("with no NORMAL card, the newest archived card is kept and the other cancelled", () => {
    const older = card("32", "ARCHIVED", 2014, "NOT_ACTIVATED");
    const newer = card("32", "ARCHIVED", 2021, "NOT_ACTIVATED");
    const expired = card("32", "EXPIRED", 2023, "NOT_ACTIVATED");
    expect(findDuplicates([newer, expired, older])[0]!.actions).toEqual([
      {
        cardId: older.id,
        action: "CANCEL_CARD_AND_BANK_ACCOUNT",
        reason:
          "This duplicate card was never enabled: apply to cancel it together with its bank account.",
      },
      { cardId: newer.id, action: "KEEP", reason: "This is the card to keep in this province." },
    ]);
  });
  it("the older NORMAL card is kept over a newer archived one", () => {
    const normal = card("33", "NORMAL", 2012);
    const archived = card("33", "ARCHIVED", 2022);
    expect(findDuplicates([archived, normal])[0]!.actions.map((a) => [a.cardId, a.action])).toEqual(
      [
        [normal.id, "KEEP"],
        [archived.id, "CANCEL_CARD_AND_BANK_ACCOUNT"],
      ],
    );
  });
  it("an unavailable card with any open account names its state and bank", () => {
    for (const [status, bank, words] of [
      ["TEMPORARY_LOSS", "LOSS_REPORTED", "temporary loss"],
      ["EXPIRED", "ACTIVE", "expired"],
      ["LOST", "CANCELLATION_REQUIRED", "lost"],
    ] as const) {
      const open = card("35", status, 2011, bank);
      const keep = card("35", "NORMAL", 2020);
      expect(findDuplicates([open, keep])[0]!.actions[0]).toEqual({
        cardId: open.id,
        action: "CANCEL_BANK_ACCOUNT_AT_COUNTER",
        reason: `The card is ${words} but its bank account at 工商银行 is still open: cancel the account over the counter at any 工商银行 outlet.`,
      });
    }
    const notActivated = card("35", "LOST", 2011, "NOT_ACTIVATED");
    const unknown = card("35", "LOST", 2012, null);
    const keep = card("35", "NORMAL", 2020);
    expect(findDuplicates([notActivated, unknown, keep])[0]!.actions.map((a) => a.cardId)).toEqual([
      keep.id,
    ]);
  });
  it("a NORMAL duplicate is asked about local use, with the reason why", () => {
    const older = card("36", "NORMAL", 2010);
    const newer = card("36", "NORMAL", 2022);
    expect(findDuplicates([older, newer])[0]!.actions[0]).toEqual({
      cardId: older.id,
      action: "CONFIRM_LOCAL_USE",
      reason:
        "Keep this card if the holder uses local employment or social security services with it; otherwise apply to cancel it together with its bank account.",
    });
  });
});
