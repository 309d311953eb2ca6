import fc from "fast-check";
import { CHANNELS, HubError, isChannelAllowed, type Channel } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { ReplacementReason } from "../model/replacement-reason.js";
import type { CardFacts } from "./card-facts.js";
import { applyCommand, type CardCommand } from "./state-machine.js";
import { expiryFor } from "./validity.js";
import { archivedCard as card } from "../testing/card-facts.js";

const now = new Date("2026-11-25T12:00:00Z");

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof HubError ? error.code : "UNEXPECTED";
  }
}

describe("the card state machine", () => {
  it("R-CARD-3: enabling moves ARCHIVED to NORMAL and records the channel", () => {
    const t = applyCommand(card(), { kind: "ENABLE_SOCIAL_FUNCTION" }, "HOSPITAL", now);
    expect(t.card.status).toBe("NORMAL");
    expect(t.card.socialFunction).toEqual({ enabled: true, enabledAt: now, channel: "HOSPITAL" });
    expect(t.change).toEqual({
      type: "SOCIAL_FUNCTION_ENABLED",
      fromStatus: "ARCHIVED",
      toStatus: "NORMAL",
    });
    expect(t.firstActivation).toBe(true);
  });

  it("R-CARD-4: enabling an enabled card changes nothing and says it was already enabled", () => {
    const enabled = card({
      status: "NORMAL",
      socialFunction: { enabled: true, enabledAt: now, channel: "COUNTER" },
    });
    const t = applyCommand(enabled, { kind: "ENABLE_SOCIAL_FUNCTION" }, "APP", now);
    expect(t).toEqual({ card: enabled, change: null, firstActivation: false });
  });

  it("R-BANK-2: an enable caused by another subgraph's event reaches a card reported lost since; withdrawing the report returns it to NORMAL", () => {
    for (const status of ["TEMPORARY_LOSS", "LOST"] as const) {
      const lost = card({ status });
      const t = applyCommand(
        lost,
        { kind: "ENABLE_SOCIAL_FUNCTION", byEvent: true },
        "BANK_COUNTER",
        now,
      );
      expect(t.card.status).toBe(status);
      expect(t.card.socialFunction).toEqual({
        enabled: true,
        enabledAt: now,
        channel: "BANK_COUNTER",
      });
      expect(t.change).toEqual({
        type: "SOCIAL_FUNCTION_ENABLED",
        fromStatus: status,
        toStatus: status,
      });
      const withdrawn = applyCommand(t.card, { kind: "WITHDRAW_LOSS_REPORT" }, "COUNTER", now);
      expect(withdrawn.card.status).toBe("NORMAL");
      // A channel's own enable of a lost card is still refused.
      expect(
        codeOf(() => applyCommand(lost, { kind: "ENABLE_SOCIAL_FUNCTION" }, "COUNTER", now)),
      ).toBe("INVALID_TRANSITION");
    }
  });

  it("R-CARD-10: a loss report can be withdrawn back to use; a formal report needs a counter", () => {
    const normal = card({
      status: "NORMAL",
      socialFunction: { enabled: true, enabledAt: now, channel: "COUNTER" },
    });
    const temporary = applyCommand(
      normal,
      { kind: "REPORT_LOSS", temporary: true },
      "PHONE_12333",
      now,
    ).card;
    expect(temporary.status).toBe("TEMPORARY_LOSS");
    expect(
      codeOf(() =>
        applyCommand(temporary, { kind: "REPORT_LOSS", temporary: false }, "PHONE_12333", now),
      ),
    ).toBe("CHANNEL_NOT_ALLOWED");
    const lost = applyCommand(
      temporary,
      { kind: "REPORT_LOSS", temporary: false },
      "COUNTER",
      now,
    ).card;
    expect(lost.status).toBe("LOST");
    expect(applyCommand(lost, { kind: "WITHDRAW_LOSS_REPORT" }, "COUNTER", now).card.status).toBe(
      "NORMAL",
    );
    // never enabled before the loss: back to ARCHIVED
    const archivedLost = applyCommand(
      card(),
      { kind: "REPORT_LOSS", temporary: true },
      "APP",
      now,
    ).card;
    expect(
      applyCommand(archivedLost, { kind: "WITHDRAW_LOSS_REPORT" }, "COUNTER", now).card.status,
    ).toBe("ARCHIVED");
  });

  it("R-CARD-9: instant issuance only at counters; the new card starts NORMAL, otherwise ARCHIVED", () => {
    expect(
      codeOf(() =>
        applyCommand(card(), { kind: "REPLACE", reason: "LOST", instant: true }, "APP", now),
      ),
    ).toBe("CHANNEL_NOT_ALLOWED");
    expect(
      applyCommand(card(), { kind: "REPLACE", reason: "LOST", instant: true }, "BANK_COUNTER", now)
        .replacement?.startsAs,
    ).toBe("NORMAL");
    expect(
      applyCommand(card(), { kind: "REPLACE", reason: "LOST", instant: false }, "APP", now)
        .replacement?.startsAs,
    ).toBe("ARCHIVED");
  });

  it("R-ECARD-3: a failed face match carries the four remedies", () => {
    try {
      applyCommand(card(), { kind: "ISSUE_ELECTRONIC_CARD", faceMatched: false }, "ALIPAY", now);
      expect.unreachable();
    } catch (error) {
      expect((error as HubError).code).toBe("FACE_MISMATCH");
      expect((error as HubError).extensions["remedies"]).toHaveLength(4);
    }
  });
});

const channels = fc.constantFrom<Channel>(...CHANNELS);
const reasons = fc.constantFrom(...Object.values(ReplacementReason));
const commands: fc.Arbitrary<CardCommand> = fc.oneof(
  fc.constant<CardCommand>({ kind: "ENABLE_SOCIAL_FUNCTION" }),
  fc.boolean().map<CardCommand>((temporary) => ({ kind: "REPORT_LOSS", temporary })),
  fc.constant<CardCommand>({ kind: "WITHDRAW_LOSS_REPORT" }),
  fc.constant<CardCommand>({ kind: "CANCEL", reason: "holder request" }),
  fc
    .record({ reason: reasons, instant: fc.boolean() })
    .map<CardCommand>((r) => ({ kind: "REPLACE", ...r })),
  fc.boolean().map<CardCommand>((faceMatched) => ({ kind: "ISSUE_ELECTRONIC_CARD", faceMatched })),
  fc.constant<CardCommand>({ kind: "COLLECT", collectedAt: new Date("2025-01-01T00:00:00Z") }),
);
/** A card issued between 12 years ago and yesterday, so expiry and renewal windows occur. */
const startCards = fc.integer({ min: 1, max: 12 * 365 }).map((daysAgo) => {
  const issuedAt = new Date(now.getTime() - daysAgo * 86_400_000);
  return card({ issuedAt, expiresAt: expiryFor(issuedAt) });
});

/** Applies a sequence the way the store does: a domain error leaves the card as it was. */
function replay(start: CardFacts, steps: [CardCommand, Channel][]) {
  let current = start;
  const outcomes: { before: CardFacts; after: CardFacts; fee?: number; error?: string }[] = [];
  for (const [command, channel] of steps) {
    try {
      const t = applyCommand(current, command, channel, now);
      outcomes.push({ before: current, after: t.card, fee: t.replacement?.fee.amount });
      current = t.card;
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      outcomes.push({ before: current, after: current, error: error.code });
    }
  }
  return outcomes;
}

describe("state machine properties (fast-check)", () => {
  const sequences = fc.array(fc.tuple(commands, channels), { minLength: 1, maxLength: 25 });

  it("R-CARD-10: no sequence of commands takes a card out of CANCELLED", () => {
    fc.assert(
      fc.property(startCards, sequences, (start, steps) => {
        for (const outcome of replay(start, steps)) {
          if (outcome.before.status === "CANCELLED") {
            expect(outcome.after).toEqual(outcome.before);
            // Channel and input are checked first (CONTRACT.md's order); the state refuses the rest.
            expect(outcome.error).toMatch(
              /^(INVALID_TRANSITION|CHANNEL_NOT_ALLOWED|BAD_USER_INPUT|FACE_MISMATCH)$/,
            );
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("R-CARD-8: every replacement fee is 0 or 20 yuan", () => {
    fc.assert(
      fc.property(startCards, sequences, (start, steps) => {
        for (const outcome of replay(start, steps))
          if (outcome.fee !== undefined) expect([0, 20]).toContain(outcome.fee);
      }),
      { numRuns: 500 },
    );
  });

  it("a command only ever returns a domain error (no crash), and a refused one changes nothing", () => {
    fc.assert(
      fc.property(startCards, sequences, (start, steps) => {
        for (const outcome of replay(start, steps)) {
          if (outcome.error)
            expect([
              "INVALID_TRANSITION",
              "CHANNEL_NOT_ALLOWED",
              "BAD_USER_INPUT",
              "FACE_MISMATCH",
            ]).toContain(outcome.error);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the input-dependent channel rules hold: formal loss reports and instant issuance only where the contract allows", () => {
    fc.assert(
      fc.property(channels, fc.boolean(), (channel, temporary) => {
        const normal = card({
          status: "NORMAL",
          socialFunction: { enabled: true, enabledAt: now, channel: "COUNTER" },
        });
        const key = temporary ? "reportCardLoss:temporary" : "reportCardLoss:formal";
        const refused =
          codeOf(() => applyCommand(normal, { kind: "REPORT_LOSS", temporary }, channel, now)) ===
          "CHANNEL_NOT_ALLOWED";
        expect(refused).toBe(!isChannelAllowed(key, channel));
      }),
    );
  });
});
