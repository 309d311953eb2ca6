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
