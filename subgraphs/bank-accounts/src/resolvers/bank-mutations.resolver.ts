import { AllowedChannels, validateAgent } from "@hub/kit";
import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import type { BankAccountsContext } from "../context.js";
import {
  ActivateFinancialFunctionInput,
  BankAccountPayload,
  CancelBankAccountInput,
} from "../model/bank-inputs.js";
import { activate, cancel } from "../rules/account-rules.js";

@Resolver()
export class BankMutationsResolver {
  @Authorized("bank:write")
  @UseMiddleware(AllowedChannels("activateFinancialFunction"))
  @Mutation(() => BankAccountPayload, {
    description:
      "Activates the financial function at a counter of the card's partner bank (or door to door; an agent with a power of attorney for the elderly, seriously ill or disabled) (R-BANK-1). Also enables the card's social security function (R-BANK-2).",
  })
  async activateFinancialFunction(
    @Arg("input", () => ActivateFinancialFunctionInput, {
      description: "The request; see its input type for each field.",
    })
    input: ActivateFinancialFunctionInput,
    @Ctx() ctx: BankAccountsContext,
  ) {
    const agent = validateAgent(input.agent, ctx.now());
    const bankAccount = await ctx.commands.change(
      "activateFinancialFunction",
      input.cardId,
      activate,
      {
        caller: ctx.caller,
        now: ctx.now(),
        key: input.idempotencyKey,
        agent,
        effects: ctx.effects,
      },
    );
    return { bankAccount, card: { id: input.cardId } };
  }

  @Authorized("bank:write")
  @UseMiddleware(AllowedChannels("cancelBankAccount"))
  @Mutation(() => BankAccountPayload, {
    description:
      "Cancels the card's bank account over the counter of the partner bank (R-BANK-3, R-DUP-2).",
  })
  async cancelBankAccount(
    @Arg("input", () => CancelBankAccountInput, {
      description: "The request; see its input type for each field.",
    })
    input: CancelBankAccountInput,
    @Ctx() ctx: BankAccountsContext,
  ) {
    const bankAccount = await ctx.commands.change("cancelBankAccount", input.cardId, cancel, {
      caller: ctx.caller,
      now: ctx.now(),
      key: input.idempotencyKey,
      effects: ctx.effects,
    });
    return { bankAccount, card: { id: input.cardId } };
  }
}
