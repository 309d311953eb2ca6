import { AllowedChannels, HubError, PROVINCE_CODES, validateAgent } from "@hub/kit";
import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import type { CardsContext } from "../context.js";
import {
  CancelCardInput,
  checkCancelReason,
  checkPoliceCertificateRef,
  CollectCardInput,
  EnableSocialSecurityFunctionInput,
  IssueCardInput,
  IssueElectronicCardInput,
  ReplaceCardInput,
  ReportCardLossInput,
  WithdrawLossReportInput,
} from "../model/card-inputs.js";
import {
  CardPayload,
  EnableSocialSecurityFunctionPayload,
  ReplaceCardPayload,
} from "../model/card-payloads.js";
import { checkPastDate } from "../rules/dates.js";
import type { CardCommand } from "../rules/state-machine.js";
import type { CommandMeta } from "../commands/command-meta.js";

/** The input a replay must match: everything but the idempotency key. */
function withoutKey<T extends { idempotencyKey?: string | null }>(
  input: T,
): Omit<T, "idempotencyKey"> {
  const { idempotencyKey: _key, ...rest } = input;
  return rest;
}

/** Thin: the channel policy and scope are declared here; the state machine decides; the store writes. */
@Resolver()
export class CardMutationsResolver {
  private meta(
    ctx: CardsContext,
    operation: string,
    input: { idempotencyKey?: string | null },
    extra: Partial<Omit<CommandMeta, "effects">> = {},
  ): CommandMeta {
    return {
      caller: ctx.caller,
      now: ctx.now(),
      operation,
      idempotencyKey: input.idempotencyKey,
      input: withoutKey(input),
      ...extra,
      effects: ctx.effects,
    };
  }

  private async command(
    ctx: CardsContext,
    cardId: string,
    command: CardCommand,
    meta: CommandMeta,
  ) {
    const result = await ctx.commands.run(cardId, command, meta);
    return { result, card: result.card };
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("issueCard"))
  @Mutation(() => CardPayload, {
    description:
      "Issues a new card (ARCHIVED until its social security function is enabled) to a registered person. A bank account is opened for it at the issuing bank.",
  })
  async issueCard(
    @Arg("input", () => IssueCardInput, {
      description: "The request; see its input type for each field.",
    })
    input: IssueCardInput,
    @Ctx() ctx: CardsContext,
  ) {
    if (!PROVINCE_CODES.has(input.province))
      throw new HubError("BAD_USER_INPUT", `"${input.province}" is not a GB/T 2260 province code.`);
    if (input.issuingBank.trim().length === 0)
      throw new HubError("BAD_USER_INPUT", "The issuing bank is required.");
    const now = ctx.now();
    const issuedAt = input.issuedAt ?? now;
    checkPastDate("issuedAt", issuedAt, now);
    const result = await ctx.commands.issue(this.meta(ctx, "issueCard", input), {
      personId: input.personId,
      province: input.province,
      issuingBank: input.issuingBank.trim(),
      issuedAt,
    });
    return { card: result.card };
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("collectCard"))
  @Mutation(() => CardPayload, {
    description:
      "Records that the holder collected the card (R-CARD-2; starts the 6-month activation prompt of R-CARD-5).",
  })
  async collectCard(
    @Arg("input", () => CollectCardInput, {
      description: "The request; see its input type for each field.",
    })
    input: CollectCardInput,
    @Ctx() ctx: CardsContext,
  ) {
    return this.command(
      ctx,
      input.cardId,
      { kind: "COLLECT", collectedAt: input.collectedAt ?? ctx.now() },
      this.meta(ctx, "collectCard", input),
    );
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("enableSocialSecurityFunction"))
  @Mutation(() => EnableSocialSecurityFunctionPayload, {
    description:
      "Enables the social security function (R-CARD-3). Idempotent: firstActivation says whether it was enabled now or already (R-CARD-4).",
  })
  async enableSocialSecurityFunction(
    @Arg("input", () => EnableSocialSecurityFunctionInput, {
      description: "The request; see its input type for each field.",
    })
    input: EnableSocialSecurityFunctionInput,
    @Ctx() ctx: CardsContext,
  ) {
    const { result, card } = await this.command(
      ctx,
      input.cardId,
      { kind: "ENABLE_SOCIAL_FUNCTION" },
      this.meta(ctx, "enableSocialSecurityFunction", input),
    );
    return { firstActivation: result.firstActivation ?? false, card };
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("reportCardLoss:temporary"))
  @Mutation(() => CardPayload, {
    description:
      "Reports the card lost: temporarily (remote channels and counters) or formally (counters only). A formal report also puts the bank account under loss report.",
  })
  async reportCardLoss(
    @Arg("input", () => ReportCardLossInput, {
      description: "The request; see its input type for each field.",
    })
    input: ReportCardLossInput,
    @Ctx() ctx: CardsContext,
  ) {
    return this.command(
      ctx,
      input.cardId,
      { kind: "REPORT_LOSS", temporary: input.temporary },
      this.meta(ctx, "reportCardLoss", input),
    );
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("withdrawLossReport"))
  @Mutation(() => CardPayload, {
    description:
      "Withdraws a loss report: the card returns to NORMAL (or ARCHIVED if never enabled) (R-CARD-10).",
  })
  async withdrawLossReport(
    @Arg("input", () => WithdrawLossReportInput, {
      description: "The request; see its input type for each field.",
    })
    input: WithdrawLossReportInput,
    @Ctx() ctx: CardsContext,
  ) {
    return this.command(
      ctx,
      input.cardId,
      { kind: "WITHDRAW_LOSS_REPORT" },
      this.meta(ctx, "withdrawLossReport", input),
    );
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("cancelCard"))
  @Mutation(() => CardPayload, {
    description:
      "Cancels the card for good (R-CARD-10); its bank account then needs cancelling at the bank (R-BANK-3).",
  })
  async cancelCard(
    @Arg("input", () => CancelCardInput, {
      description: "The request; see its input type for each field.",
    })
    input: CancelCardInput,
    @Ctx() ctx: CardsContext,
  ) {
    const reason = checkCancelReason(input.reason);
    const agent = validateAgent(input.agent, ctx.now());
    return this.command(
      ctx,
      input.cardId,
      { kind: "CANCEL", reason },
      this.meta(ctx, "cancelCard", input, { agent, details: { reason } }),
    );
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("replaceCard"))
  @Mutation(() => ReplaceCardPayload, {
    description:
      "Replaces a card (R-CARD-9): the old card is cancelled, a new card with a new number is issued for the same holder and region, both linked; the fee follows R-CARD-8. All or nothing.",
  })
  async replaceCard(
    @Arg("input", () => ReplaceCardInput, {
      description: "The request; see its input type for each field.",
    })
    input: ReplaceCardInput,
    @Ctx() ctx: CardsContext,
  ) {
    const agent = validateAgent(input.agent, ctx.now());
    const policeCertificateRef = checkPoliceCertificateRef(input.policeCertificateRef);
    const details: Record<string, string> = { reason: input.reason };
    if (policeCertificateRef) details["policeCertificateRef"] = policeCertificateRef;
    const { result, card } = await this.command(
      ctx,
      input.cardId,
      { kind: "REPLACE", reason: input.reason, instant: input.instant ?? false },
      this.meta(ctx, "replaceCard", input, { agent, details }),
    );
    if (!result.newCard || !result.fee) throw new Error("replacement produced no new card");
    return {
      oldCard: card,
      newCard: result.newCard,
      fee: result.fee,
    };
  }

  @Authorized("cards:write")
  @UseMiddleware(AllowedChannels("issueElectronicCard"))
  @Mutation(() => CardPayload, {
    description:
      "Issues the electronic card bound to the physical card after face verification (R-ECARD-1); this also enables the social security function (R-CARD-3). A failed face match answers FACE_MISMATCH with extensions.remedies (R-ECARD-3).",
  })
  async issueElectronicCard(
    @Arg("input", () => IssueElectronicCardInput, {
      description: "The request; see its input type for each field.",
    })
    input: IssueElectronicCardInput,
    @Ctx() ctx: CardsContext,
  ) {
    return this.command(
      ctx,
      input.cardId,
      { kind: "ISSUE_ELECTRONIC_CARD", faceMatched: input.faceMatched },
      this.meta(ctx, "issueElectronicCard", input),
    );
  }
}
