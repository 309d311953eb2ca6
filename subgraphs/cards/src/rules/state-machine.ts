import { HubError, requireChannel, type Channel } from "@hub/kit";
import type { CardEventType, CardStatus } from "../model/enums.js";
import type { ReplacementReason } from "../model/replacement-reason.js";
import type { CardFacts, StoredCardStatus } from "./card-facts.js";
import { checkPastDate } from "./dates.js";
import { faceMismatch } from "./face-remedies.js";
import { replacementFee, type Fee } from "./fee.js";
import { effectiveStatus } from "./validity.js";

export type CardCommand =
  | { kind: "COLLECT"; collectedAt: Date }
  | {
      kind: "ENABLE_SOCIAL_FUNCTION";
      /**
       * Caused by another subgraph's event (R-BANK-2 activation, R-PWD-2 password change): the
       * holder acted while the card was in use, so a loss report filed since does not undo it.
       */
      byEvent?: boolean;
    }
  | { kind: "REPORT_LOSS"; temporary: boolean }
  | { kind: "WITHDRAW_LOSS_REPORT" }
  | { kind: "CANCEL"; reason: string }
  | { kind: "REPLACE"; reason: ReplacementReason; instant: boolean }
  | { kind: "ISSUE_ELECTRONIC_CARD"; faceMatched: boolean };

export interface CardChange {
  type: CardEventType;
  fromStatus: StoredCardStatus;
  toStatus: StoredCardStatus;
}

export interface Transition {
  /** The card after the command (unchanged when `change` is null). */
  card: CardFacts;
  /** What to record; null when nothing changed (an idempotent repeat such as enabling twice). */
  change: CardChange | null;
  /** R-CARD-4: for enabling, whether this was the first activation. */
  firstActivation?: boolean;
  /** For a replacement: the fee and how the new card starts (R-CARD-8, R-CARD-9). */
  replacement?: { fee: Fee; startsAs: StoredCardStatus };
}

const IN_USE: ReadonlySet<StoredCardStatus> = new Set(["ARCHIVED", "NORMAL"]);
const REPORTED_LOST: ReadonlySet<StoredCardStatus> = new Set(["TEMPORARY_LOSS", "LOST"]);

function invalid(status: CardStatus, what: string): HubError {
  return new HubError("INVALID_TRANSITION", `The card is ${status}: ${what}.`, {
    currentStatus: status,
  });
}

/** The status a card in use returns to: enabled → NORMAL, otherwise ARCHIVED. */
function inUseStatus(card: CardFacts): StoredCardStatus {
  return card.socialFunction.enabled ? "NORMAL" : "ARCHIVED";
}

/**
 * The card state machine (R-CARD-2..10, R-ECARD-1..3): one pure function from (card, command,
 * channel, now) to the new state and what to record, or a domain error. The table of which
 * channel may run which operation is the contract's (kit/policy); the parts of it that depend on
 * the input (formal loss report, instant issuance) are checked here.
 */
export function applyCommand(
  card: CardFacts,
  command: CardCommand,
  channel: Channel,
  now: Date,
): Transition {
  checkCommand(command, channel, now);
  const status = effectiveStatus(card, now);
  // R-CARD-10: a cancelled card never changes again.
  if (card.status === "CANCELLED")
    throw invalid("CANCELLED", "a cancelled card never changes again");
  const to = (
    next: StoredCardStatus,
    type: CardEventType,
    patch: Partial<CardFacts> = {},
  ): Transition => ({
    card: { ...card, ...patch, status: next },
    change: { type, fromStatus: card.status, toStatus: next },
  });

  switch (command.kind) {
    case "COLLECT": {
      if (card.collectedAt)
        throw invalid(status, `it was already collected on ${card.collectedAt.toISOString()}`);
      if (command.collectedAt.getTime() < card.issuedAt.getTime())
        throw new HubError("BAD_USER_INPUT", "A card cannot be collected before it was issued.");
      return to(card.status, "COLLECTED", { collectedAt: command.collectedAt });
    }
    case "ENABLE_SOCIAL_FUNCTION": {
      // R-CARD-4: enabling twice is not an error; it says it was already enabled.
      if (card.socialFunction.enabled) return { card, change: null, firstActivation: false };
      // Enabled under the loss report: withdrawing it returns the card to NORMAL (inUseStatus).
      if (command.byEvent && REPORTED_LOST.has(card.status))
        return {
          ...to(card.status, "SOCIAL_FUNCTION_ENABLED", {
            socialFunction: { enabled: true, enabledAt: now, channel },
          }),
          firstActivation: true,
        };
      if (status !== "ARCHIVED")
        throw invalid(status, "only an archived card in use can be enabled");
      return {
        ...to("NORMAL", "SOCIAL_FUNCTION_ENABLED", {
          socialFunction: { enabled: true, enabledAt: now, channel },
        }),
        firstActivation: true,
      };
    }
    case "REPORT_LOSS": {
      if (command.temporary) {
        if (!IN_USE.has(card.status))
          throw invalid(status, "only a card in use can be reported lost temporarily");
        return to("TEMPORARY_LOSS", "LOSS_REPORTED_TEMPORARY");
      }
      if (card.status === "LOST") throw invalid(status, "it is already formally reported lost");
      return to("LOST", "LOSS_REPORTED_FORMAL");
    }
    case "WITHDRAW_LOSS_REPORT": {
      if (!REPORTED_LOST.has(card.status))
        throw invalid(status, "there is no loss report to withdraw");
      return to(inUseStatus(card), "LOSS_REPORT_WITHDRAWN");
    }
    case "CANCEL":
      return to("CANCELLED", "CANCELLED");
    case "REPLACE": {
      const fee = replacementFee(command.reason, card, now);
      // R-CARD-9: the new card starts ARCHIVED, or NORMAL when issued instantly at a counter.
      return {
        ...to("CANCELLED", "REPLACED"),
        replacement: { fee, startsAs: command.instant ? "NORMAL" : "ARCHIVED" },
      };
    }
    case "ISSUE_ELECTRONIC_CARD": {
      if (!IN_USE.has(card.status) || status === "EXPIRED")
        throw invalid(status, "an electronic card is issued only for a card in use");
      if (card.electronicCard) return { card, change: null };
      // R-CARD-3: the electronic card after face verification also enables the social function.
      const socialFunction = card.socialFunction.enabled
        ? card.socialFunction
        : { enabled: true, enabledAt: now, channel };
      return to("NORMAL", "ELECTRONIC_CARD_ISSUED", {
        electronicCard: { channel, issuedAt: now },
        socialFunction,
      });
    }
  }
}

/**
 * What a command's channel and input alone decide, in CONTRACT.md's order (channel, then input),
 * before anything about the card is read: a channel outside its row hears CHANNEL_NOT_ALLOWED
 * whatever the card's state, and even for a card that does not exist.
 */
export function checkCommand(command: CardCommand, channel: Channel, now: Date): void {
  checkCommandChannel(command, channel);
  checkCommandInput(command, now);
}

/** The parts of the channel policy that depend on the input (formal loss, instant issuance). */
function checkCommandChannel(command: CardCommand, channel: Channel): void {
  if (command.kind === "REPORT_LOSS")
    requireChannel(
      command.temporary ? "reportCardLoss:temporary" : "reportCardLoss:formal",
      channel,
    );
  if (command.kind === "REPLACE" && command.instant) requireChannel("replaceCard:instant", channel);
}

/** What the input alone decides, before the card's state is looked at. */
function checkCommandInput(command: CardCommand, now: Date): void {
  if (command.kind === "COLLECT") checkPastDate("collectedAt", command.collectedAt, now);
  if (command.kind === "CANCEL" && command.reason.trim().length === 0)
    throw new HubError("BAD_USER_INPUT", "A cancellation needs a reason.");
  // R-ECARD-3: a failed face match is answered with its remedies whatever the card's state.
  if (command.kind === "ISSUE_ELECTRONIC_CARD" && !command.faceMatched) throw faceMismatch();
}
