import { HubError, type Channel } from "@hub/kit";
import { describe, expect, it } from "vitest";
import type { CardFacts } from "./card-facts.js";
import { applyCommand, checkCommand, type CardCommand } from "./state-machine.js";
import { archivedCard as card, issuedAt } from "../testing/card-facts.js";

/**
 * Each transition's result and each refusal's words, one at a time (mutation testing,
 * docs/mutation-testing.md): state-machine.test.ts holds the rules' walk-throughs and properties.
 */
const now = new Date("2026-11-25T12:00:00Z");
const enabledAt = new Date("2022-04-01T00:00:00Z");

const normal = (overrides: Partial<CardFacts> = {}) =>
  card({
    status: "NORMAL",
    socialFunction: { enabled: true, enabledAt, channel: "COUNTER" },
    ...overrides,
  });
const expired = { expiresAt: new Date(now.getTime() - 1) };

function refusal(
  start: CardFacts,
  command: CardCommand,
  channel: Channel = "COUNTER",
): { code: string; message: string; extensions: Record<string, unknown> } {
  try {
    applyCommand(start, command, channel, now);
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    return { code: error.code, message: error.message, extensions: { ...error.extensions } };
  }
  throw new Error(`${command.kind} was not refused`);
}

const invalid = (status: string, what: string) => ({
  code: "INVALID_TRANSITION",
  message: `The card is ${status}: ${what}.`,
  extensions: { code: "INVALID_TRANSITION", currentStatus: status },
});

describe("each transition's result", () => {
  it("COLLECT records the date and keeps the status", () => {
    const collectedAt = new Date("2022-03-05T00:00:00Z");
    const t = applyCommand(card(), { kind: "COLLECT", collectedAt }, "GRASSROOTS", now);
    expect(t).toEqual({
      card: { ...card(), collectedAt },
      change: { type: "COLLECTED", fromStatus: "ARCHIVED", toStatus: "ARCHIVED" },
    });
    // On the day it was issued, to the millisecond.
    expect(
      applyCommand(card(), { kind: "COLLECT", collectedAt: issuedAt }, "COUNTER", now).card
        .collectedAt,
    ).toEqual(issuedAt);
  });

  it("loss reports: temporary from use, formal from use or a temporary report", () => {
    expect(
      applyCommand(normal(), { kind: "REPORT_LOSS", temporary: true }, "APP", now).change,
    ).toEqual({
      type: "LOSS_REPORTED_TEMPORARY",
      fromStatus: "NORMAL",
      toStatus: "TEMPORARY_LOSS",
    });
    expect(
      applyCommand(card(), { kind: "REPORT_LOSS", temporary: true }, "APP", now).change,
    ).toEqual({
      type: "LOSS_REPORTED_TEMPORARY",
      fromStatus: "ARCHIVED",
      toStatus: "TEMPORARY_LOSS",
    });
    for (const status of ["NORMAL", "ARCHIVED", "TEMPORARY_LOSS"] as const)
      expect(
        applyCommand(card({ status }), { kind: "REPORT_LOSS", temporary: false }, "COUNTER", now)
          .change,
      ).toEqual({ type: "LOSS_REPORTED_FORMAL", fromStatus: status, toStatus: "LOST" });
  });

  it("withdrawing a loss report returns the card to use, NORMAL when it was enabled", () => {
    expect(
      applyCommand(normal({ status: "LOST" }), { kind: "WITHDRAW_LOSS_REPORT" }, "COUNTER", now)
        .change,
    ).toEqual({ type: "LOSS_REPORT_WITHDRAWN", fromStatus: "LOST", toStatus: "NORMAL" });
    expect(
      applyCommand(
        card({ status: "TEMPORARY_LOSS" }),
        { kind: "WITHDRAW_LOSS_REPORT" },
        "COUNTER",
        now,
      ).change,
    ).toEqual({
      type: "LOSS_REPORT_WITHDRAWN",
      fromStatus: "TEMPORARY_LOSS",
      toStatus: "ARCHIVED",
    });
  });

  it("CANCEL and REPLACE end the card; a replacement says its fee and how the new card starts", () => {
    expect(
      applyCommand(normal(), { kind: "CANCEL", reason: "holder request" }, "COUNTER", now),
    ).toEqual({
      card: { ...normal(), status: "CANCELLED" },
      change: { type: "CANCELLED", fromStatus: "NORMAL", toStatus: "CANCELLED" },
    });
    const t = applyCommand(
      normal(),
      { kind: "REPLACE", reason: "CRACKED", instant: false },
      "WEBSITE",
      now,
    );
    expect(t.change).toEqual({ type: "REPLACED", fromStatus: "NORMAL", toStatus: "CANCELLED" });
    expect(t.replacement).toEqual({
      fee: { amount: 20, currency: "CNY", reason: "The card is cracked." },
      startsAs: "ARCHIVED",
    });
  });

  it("an electronic card for an archived card enables it; for an enabled card it keeps the enabling", () => {
    const t = applyCommand(
      card(),
      { kind: "ISSUE_ELECTRONIC_CARD", faceMatched: true },
      "APP",
      now,
    );
    expect(t).toEqual({
      card: {
        ...card(),
        status: "NORMAL",
        electronicCard: { channel: "APP", issuedAt: now },
        socialFunction: { enabled: true, enabledAt: now, channel: "APP" },
      },
      change: { type: "ELECTRONIC_CARD_ISSUED", fromStatus: "ARCHIVED", toStatus: "NORMAL" },
    });
    const enabled = applyCommand(
      normal(),
      { kind: "ISSUE_ELECTRONIC_CARD", faceMatched: true },
      "WECHAT",
      now,
    );
    expect(enabled.card.socialFunction).toEqual({ enabled: true, enabledAt, channel: "COUNTER" });
    expect(enabled.change).toEqual({
      type: "ELECTRONIC_CARD_ISSUED",
      fromStatus: "NORMAL",
      toStatus: "NORMAL",
    });
    const again = normal({ electronicCard: { channel: "APP", issuedAt } });
    expect(
      applyCommand(again, { kind: "ISSUE_ELECTRONIC_CARD", faceMatched: true }, "APP", now),
    ).toEqual({ card: again, change: null });
  });
});

describe("each refusal names the card's state and why", () => {
  it("a cancelled card never changes again", () => {
    expect(refusal(card({ status: "CANCELLED" }), { kind: "WITHDRAW_LOSS_REPORT" })).toEqual(
      invalid("CANCELLED", "a cancelled card never changes again"),
    );
  });

  it("COLLECT: only once, and not before the card was issued", () => {
    const collectedAt = new Date("2025-01-01T00:00:00Z");
    expect(refusal(card({ collectedAt }), { kind: "COLLECT", collectedAt })).toEqual(
      invalid("ARCHIVED", "it was already collected on 2025-01-01T00:00:00.000Z"),
    );
    expect(
      refusal(card(), { kind: "COLLECT", collectedAt: new Date(issuedAt.getTime() - 1) }),
    ).toEqual({
      code: "BAD_USER_INPUT",
      message: "A card cannot be collected before it was issued.",
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  it("enabling: only an archived card in use, named as the caller sees it", () => {
    expect(refusal(card(expired), { kind: "ENABLE_SOCIAL_FUNCTION" })).toEqual(
      invalid("EXPIRED", "only an archived card in use can be enabled"),
    );
    expect(refusal(card({ status: "LOST" }), { kind: "ENABLE_SOCIAL_FUNCTION" })).toEqual(
      invalid("LOST", "only an archived card in use can be enabled"),
    );
    // Caused by an event, for a card reported lost since: its first activation all the same.
    expect(
      applyCommand(
        card({ status: "TEMPORARY_LOSS" }),
        { kind: "ENABLE_SOCIAL_FUNCTION", byEvent: true },
        "BANK_COUNTER",
        now,
      ).firstActivation,
    ).toBe(true);
    // Caused by an event, for a card in use: enabled as usual.
    expect(
      applyCommand(card(), { kind: "ENABLE_SOCIAL_FUNCTION", byEvent: true }, "COUNTER", now).card
        .status,
    ).toBe("NORMAL");
  });

  it("loss reports", () => {
    expect(
      refusal(card({ status: "LOST" }), { kind: "REPORT_LOSS", temporary: true }, "APP"),
    ).toEqual(invalid("LOST", "only a card in use can be reported lost temporarily"));
    expect(
      refusal(card({ status: "TEMPORARY_LOSS" }), { kind: "REPORT_LOSS", temporary: true }, "APP"),
    ).toEqual(invalid("TEMPORARY_LOSS", "only a card in use can be reported lost temporarily"));
    expect(refusal(card({ status: "LOST" }), { kind: "REPORT_LOSS", temporary: false })).toEqual(
      invalid("LOST", "it is already formally reported lost"),
    );
    expect(refusal(normal(), { kind: "WITHDRAW_LOSS_REPORT" })).toEqual(
      invalid("NORMAL", "there is no loss report to withdraw"),
    );
  });

  it("an electronic card only for a card in use and within its validity", () => {
    for (const [start, status] of [
      [card({ status: "LOST" }), "LOST"],
      [card({ status: "TEMPORARY_LOSS" }), "TEMPORARY_LOSS"],
      [normal(expired), "EXPIRED"],
    ] as const)
      expect(refusal(start, { kind: "ISSUE_ELECTRONIC_CARD", faceMatched: true }, "APP")).toEqual(
        invalid(status, "an electronic card is issued only for a card in use"),
      );
  });
});

describe("what the command alone decides, before the card is read", () => {
  const check = (command: CardCommand, channel: Channel) => {
    try {
      checkCommand(command, channel, now);
      return null;
    } catch (error) {
      return error instanceof HubError ? [error.code, error.message] : ["UNEXPECTED"];
    }
  };

  it("the channel of a formal loss report and of an instant replacement", () => {
    expect(check({ kind: "REPORT_LOSS", temporary: false }, "APP")?.[0]).toBe(
      "CHANNEL_NOT_ALLOWED",
    );
    expect(check({ kind: "REPORT_LOSS", temporary: true }, "APP")).toBeNull();
    expect(check({ kind: "REPORT_LOSS", temporary: true }, "HOSPITAL")?.[0]).toBe(
      "CHANNEL_NOT_ALLOWED",
    );
    expect(check({ kind: "REPLACE", reason: "LOST", instant: true }, "APP")?.[0]).toBe(
      "CHANNEL_NOT_ALLOWED",
    );
    // Not instant: the operation's own row (checked by the API) decides, not this one.
    expect(check({ kind: "REPLACE", reason: "LOST", instant: false }, "HOSPITAL")).toBeNull();
    expect(check({ kind: "CANCEL", reason: "x" }, "APP")).toBeNull();
  });

  it("the input: a collection date in the past, a cancellation reason, a matched face", () => {
    expect(check({ kind: "COLLECT", collectedAt: new Date(now.getTime() + 1) }, "COUNTER")).toEqual(
      ["BAD_USER_INPUT", "collectedAt lies in the future."],
    );
    expect(check({ kind: "COLLECT", collectedAt: now }, "COUNTER")).toBeNull();
    expect(check({ kind: "CANCEL", reason: " \t " }, "COUNTER")).toEqual([
      "BAD_USER_INPUT",
      "A cancellation needs a reason.",
    ]);
    expect(check({ kind: "CANCEL", reason: "lost for good" }, "COUNTER")).toBeNull();
    expect(check({ kind: "ISSUE_ELECTRONIC_CARD", faceMatched: false }, "APP")?.[0]).toBe(
      "FACE_MISMATCH",
    );
    expect(check({ kind: "ISSUE_ELECTRONIC_CARD", faceMatched: true }, "APP")).toBeNull();
  });

  it("comes first: a cancelled card hears about its input, not its state", () => {
    const cancelled = card({ status: "CANCELLED" });
    expect(refusal(cancelled, { kind: "CANCEL", reason: "" }).code).toBe("BAD_USER_INPUT");
    expect(refusal(cancelled, { kind: "REPORT_LOSS", temporary: false }, "WECHAT").code).toBe(
      "CHANNEL_NOT_ALLOWED",
    );
  });
});
