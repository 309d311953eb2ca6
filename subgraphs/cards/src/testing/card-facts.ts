import type { CardFacts } from "../rules/card-facts.js";
import { expiryFor } from "../rules/validity.js";

/** Tests only: when `archivedCard`'s card was issued. */
export const issuedAt = new Date("2022-03-01T00:00:00Z");

/**
 * A card's facts as the rules read them: issued (ARCHIVED), not collected, no function enabled,
 * its bank account not activated; `overrides` on top.
 */
export function archivedCard(overrides: Partial<CardFacts> = {}): CardFacts {
  return {
    id: "c1",
    personId: "p1",
    province: "44",
    issuingBank: "Bank",
    status: "ARCHIVED",
    issuedAt,
    expiresAt: expiryFor(issuedAt),
    collectedAt: null,
    socialFunction: { enabled: false, enabledAt: null, channel: null },
    electronicCard: null,
    replacesId: null,
    replacedById: null,
    bankAccountStatus: "NOT_ACTIVATED",
    ...overrides,
  };
}
