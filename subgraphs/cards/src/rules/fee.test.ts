import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { replacementFee } from "./fee.js";
import { expiryFor } from "./validity.js";

const now = new Date("2026-11-25T12:00:00Z");
const issued = (daysAgo: number) => {
  const issuedAt = new Date(now.getTime() - daysAgo * 86_400_000);
  return { status: "NORMAL" as const, expiresAt: expiryFor(issuedAt) };
};

describe("R-CARD-8: replacement fees", () => {
  it("a cracked card costs 20 yuan, a defective one 0", () => {
    expect(replacementFee("CRACKED", issued(400), now).amount).toBe(20);
    expect(replacementFee("QUALITY_DEFECT", issued(400), now).amount).toBe(0);
  });
  it("stained, chip detached, human damage, lost: 20 yuan, with the reason recorded", () => {
    for (const reason of ["STAINED", "CHIP_DETACHED", "HUMAN_DAMAGE", "LOST"] as const) {
      const fee = replacementFee(reason, issued(400), now);
      expect(fee).toMatchObject({ amount: 20, currency: "CNY" });
      expect(fee.reason.length).toBeGreaterThan(5);
    }
  });
  it("past its 10-year validity: 20 yuan, even for a quality defect", () => {
    expect(replacementFee("EXPIRED", issued(3700), now).amount).toBe(20);
    expect(replacementFee("QUALITY_DEFECT", issued(3700), now).amount).toBe(20);
  });
  it("R-CARD-7: renewal within 60 days before expiry is free; outside the window it is refused", () => {
    expect(replacementFee("RENEWAL", issued(3652 - 30), now).amount).toBe(0);
    expect(() => replacementFee("RENEWAL", issued(400), now)).toThrow(HubError);
    expect(() => replacementFee("EXPIRED", issued(400), now)).toThrow(HubError);
  });
});

describe("R-CARD-8: what a fee says", () => {
  const expiringNow = { status: "NORMAL" as const, expiresAt: now };
  it("every fee is in CNY with its reason", () => {
    expect(replacementFee("QUALITY_DEFECT", issued(400), now)).toEqual({
      amount: 0,
      currency: "CNY",
      reason: "Quality defect of a card within validity: free of charge.",
    });
    expect(replacementFee("QUALITY_DEFECT", issued(3700), now)).toEqual({
      amount: 20,
      currency: "CNY",
      reason: "Quality defect, but the card is past its 10-year validity.",
    });
    expect(replacementFee("RENEWAL", issued(3652 - 30), now)).toEqual({
      amount: 0,
      currency: "CNY",
      reason: "Renewal before expiry with the holder's consent: free of charge.",
    });
    expect(replacementFee("EXPIRED", issued(3700), now)).toEqual({
      amount: 20,
      currency: "CNY",
      reason: "The card is past its 10-year validity.",
    });
    expect(replacementFee("STAINED", issued(400), now)).toEqual({
      amount: 20,
      currency: "CNY",
      reason: "The card surface is stained.",
    });
  });
  it("a card expires at its end date exactly", () => {
    expect(replacementFee("QUALITY_DEFECT", expiringNow, now).amount).toBe(20);
    expect(replacementFee("EXPIRED", expiringNow, now).amount).toBe(20);
    const tomorrow = { status: "NORMAL" as const, expiresAt: new Date(now.getTime() + 1) };
    expect(replacementFee("QUALITY_DEFECT", tomorrow, now).amount).toBe(0);
  });
  it("a refused reason says why", () => {
    expect(() => replacementFee("RENEWAL", issued(400), now)).toThrow(
      "A renewal is only possible within 60 days before the card expires; use EXPIRED for an expired card.",
    );
    expect(() => replacementFee("EXPIRED", issued(400), now)).toThrow(
      "The card is still within its validity; choose another reason.",
    );
    expect(() => replacementFee("EXPIRED", issued(400), now)).toThrow(
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT" } }),
    );
  });
});
