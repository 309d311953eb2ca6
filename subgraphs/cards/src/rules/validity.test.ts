import { describe, expect, it } from "vitest";
import type { CardFacts } from "./card-facts.js";
import { effectiveStatus, expiryFor, isActivationOverdue, isRenewalDue } from "./validity.js";

const DAY = 86_400_000;
const now = new Date("2026-11-25T12:00:00Z");

function card(overrides: Partial<CardFacts> = {}): CardFacts {
  const issuedAt = new Date("2020-01-10T00:00:00Z");
  return {
    id: "c1",
    personId: "p1",
    province: "11",
    issuingBank: "Bank",
    status: "NORMAL",
    issuedAt,
    expiresAt: expiryFor(issuedAt),
    collectedAt: new Date("2020-02-01T00:00:00Z"),
    socialFunction: {
      enabled: true,
      enabledAt: new Date("2020-02-02T00:00:00Z"),
      channel: "COUNTER",
    },
    electronicCard: null,
    replacesId: null,
    replacedById: null,
    bankAccountStatus: "ACTIVE",
    ...overrides,
  };
}

describe("R-CARD-7: validity, renewal and expiry are derived from stored dates", () => {
  it("a card is valid for 10 years from issue", () => {
    expect(expiryFor(new Date("2016-03-01T08:00:00Z")).toISOString()).toBe(
      "2026-03-01T08:00:00.000Z",
    );
  });

  it("renewal is due within 60 days before expiry, not before and not after", () => {
    const expiresIn = (days: number) => card({ expiresAt: new Date(now.getTime() + days * DAY) });
    expect(isRenewalDue(expiresIn(61), now)).toBe(false);
    expect(isRenewalDue(expiresIn(60), now)).toBe(true);
    expect(isRenewalDue(expiresIn(1), now)).toBe(true);
    expect(isRenewalDue(expiresIn(0), now)).toBe(false);
    expect(isRenewalDue({ ...expiresIn(30), status: "CANCELLED" }, now)).toBe(false);
  });

  it("a card in use past its end date is EXPIRED; loss reports and cancellations stay visible", () => {
    const past = new Date(now.getTime() - DAY);
    expect(effectiveStatus(card({ expiresAt: past }), now)).toBe("EXPIRED");
    expect(effectiveStatus(card({ expiresAt: past, status: "ARCHIVED" }), now)).toBe("EXPIRED");
    expect(effectiveStatus(card({ expiresAt: past, status: "LOST" }), now)).toBe("LOST");
    expect(effectiveStatus(card({ expiresAt: past, status: "CANCELLED" }), now)).toBe("CANCELLED");
    expect(effectiveStatus(card({ expiresAt: new Date(now.getTime() + 1) }), now)).toBe("NORMAL");
  });
});

describe("R-CARD-5: activation is overdue 6 months after collection, as a flag only", () => {
  const notEnabled = { enabled: false, enabledAt: null, channel: null };
  it("flags a card collected more than 6 months ago and not enabled", () => {
    expect(
      isActivationOverdue(
        card({
          status: "ARCHIVED",
          socialFunction: notEnabled,
          collectedAt: new Date("2026-05-24T12:00:00Z"),
        }),
        now,
      ),
    ).toBe(true);
  });
  it("does not flag it at 6 months or less, when enabled, or when not collected", () => {
    expect(
      isActivationOverdue(
        card({
          status: "ARCHIVED",
          socialFunction: notEnabled,
          collectedAt: new Date("2026-05-25T12:00:00Z"),
        }),
        now,
      ),
    ).toBe(false);
    expect(isActivationOverdue(card({ collectedAt: new Date("2020-01-01T00:00:00Z") }), now)).toBe(
      false,
    );
    expect(
      isActivationOverdue(
        card({ status: "ARCHIVED", socialFunction: notEnabled, collectedAt: null }),
        now,
      ),
    ).toBe(false);
  });
});

describe("R-CARD-7: a card expires at its end date exactly", () => {
  it("shows EXPIRED from that millisecond on", () => {
    expect(effectiveStatus(card({ expiresAt: now }), now)).toBe("EXPIRED");
    expect(effectiveStatus(card({ expiresAt: new Date(now.getTime() + 1) }), now)).toBe("NORMAL");
  });
});

describe("R-CARD-5: a cancelled card is never overdue", () => {
  it("however long ago it was collected", () => {
    expect(
      isActivationOverdue(
        card({
          status: "CANCELLED",
          socialFunction: { enabled: false, enabledAt: null, channel: null },
          collectedAt: new Date("2021-01-01T00:00:00Z"),
        }),
        now,
      ),
    ).toBe(false);
  });
});
