import type { Channel } from "@hub/kit";
import { applied, field, INITIAL_PASSWORD, PASSWORDS, type CardState } from "./chaos-card.js";
import type { Answer } from "./client.js";
import type { Ledger } from "./ledger.js";

/** What the steps use of their client: its cards, its ledger and how it sends requests. */
export interface StepContext {
  cards: CardState[];
  ledger: Ledger;
  key: () => string;
  send: (operation: string, input: Record<string, unknown>, channel?: Channel) => Promise<Answer>;
  change: (
    card: CardState,
    operation: string,
    input: Record<string, unknown>,
    type: string | null,
    channel?: Channel,
  ) => Promise<Answer>;
  refresh: (card: CardState) => Promise<void>;
}

export type CardSteps = ReturnType<typeof cardSteps>;

/**
 * Every step a client may take with one of its cards: the request, what its answer is recorded
 * as in the ledger, and what the client learns of the card from it.
 */
export function cardSteps(ctx: StepContext) {
  return {
    read: async (card: CardState) => ctx.refresh(card),
    collect: async (card: CardState) => {
      await ctx.change(card, "CollectCard", { idempotencyKey: ctx.key() }, "COLLECTED");
    },
    enable: async (card: CardState) => {
      const answer = await ctx.change(
        card,
        "EnableSocialSecurityFunction",
        { idempotencyKey: ctx.key() },
        null,
      );
      // Only a first activation writes history (R-CARD-4: enabling again changes nothing).
      if (answer.outcome === "failed" || field(answer.root, "firstActivation") === true)
        ctx.ledger.record(card.id, "SOCIAL_FUNCTION_ENABLED", answer);
    },
    lossTemporary: async (card: CardState) => {
      await ctx.change(
        card,
        "ReportCardLoss",
        { temporary: true, idempotencyKey: ctx.key() },
        "LOSS_REPORTED_TEMPORARY",
      );
    },
    lossFormal: async (card: CardState) => {
      await ctx.change(
        card,
        "ReportCardLoss",
        { temporary: false, idempotencyKey: ctx.key() },
        "LOSS_REPORTED_FORMAL",
      );
    },
    withdraw: async (card: CardState) => {
      await ctx.change(
        card,
        "WithdrawLossReport",
        { idempotencyKey: ctx.key() },
        "LOSS_REPORT_WITHDRAWN",
      );
    },
    cancel: async (card: CardState) => {
      await ctx.change(
        card,
        "CancelCard",
        { reason: "chaos run", idempotencyKey: ctx.key() },
        "CANCELLED",
      );
    },
    replace: async (card: CardState) => {
      const reason =
        card.status === "LOST" || card.status === "TEMPORARY_LOSS" ? "LOST" : "STAINED";
      const answer = await ctx.send("ReplaceCard", {
        cardId: card.id,
        reason,
        idempotencyKey: ctx.key(),
      });
      ctx.ledger.tell(card.id, "ReplaceCard", answer);
      ctx.ledger.record(card.id, "REPLACED", answer);
      const shown = field(answer.root, "newCard");
      const id = field(shown, "id");
      if (applied(answer) && typeof id === "string") {
        card.status = "CANCELLED";
        card.account = "CANCELLATION_REQUIRED";
        ctx.ledger.tell(id, "ReplaceCard (new card)", answer);
        ctx.ledger.record(id, "ISSUED_AS_REPLACEMENT", answer);
        ctx.cards.push({
          ...card,
          id,
          status: String(field(shown, "status")),
          collected: false,
          enabled: false,
          electronic: false,
          password: INITIAL_PASSWORD,
          triedPassword: null,
          account: "NOT_ACTIVATED",
        });
      } else {
        if (answer.outcome === "failed") ctx.ledger.unknownCreations += 1;
        await ctx.refresh(card);
      }
    },
    activate: async (card: CardState) => {
      const answer = await ctx.change(
        card,
        "ActivateFinancialFunction",
        { idempotencyKey: ctx.key() },
        null,
        "BANK_COUNTER",
      );
      const account = field(field(answer.root, "bankAccount"), "status");
      if (typeof account === "string") card.account = account;
    },
    cancelBankAccount: async (card: CardState) => {
      const answer = await ctx.change(
        card,
        "CancelBankAccount",
        { idempotencyKey: ctx.key() },
        null,
        "BANK_COUNTER",
      );
      const account = field(field(answer.root, "bankAccount"), "status");
      if (typeof account === "string") card.account = account;
      // Already cancelled (a lost answer applied), or no account to cancel: nothing left to do
      // with this card (the invariants say whether its account should exist).
      if (answer.outcome === "rejected") card.account = "CANCELLED";
    },
    electronicCard: async (card: CardState) => {
      const answer = await ctx.change(
        card,
        "IssueElectronicCard",
        { faceMatched: true, idempotencyKey: ctx.key() },
        "ELECTRONIC_CARD_ISSUED",
        "APP",
      );
      // R-CARD-3: issuing it enables the social function, so an archived card is in use now.
      if (applied(answer) && card.status === "ARCHIVED") card.status = "NORMAL";
      if (applied(answer)) card.enabled = true;
    },
    changePassword: async (card: CardState) => {
      const next = PASSWORDS.filter((p) => p !== card.password)[Math.floor(Math.random() * 3)]!;
      card.triedPassword = next;
      const answer = await ctx.change(
        card,
        "ChangeCardPassword",
        { currentPassword: card.password, newPassword: next },
        null,
      );
      if (field(answer.root, "result") === "OK") card.password = next;
    },
    verify: async (card: CardState) => {
      const answer = await ctx.change(
        card,
        "VerifyCardPassword",
        { password: card.password },
        null,
      );
      // A change whose answer was lost did apply after all: the other password is the one.
      if (field(answer.root, "result") === "WRONG" && card.triedPassword)
        card.password = card.triedPassword;
    },
  };
}
