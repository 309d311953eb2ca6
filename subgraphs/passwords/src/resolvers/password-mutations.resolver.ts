import { AllowedChannels, validateAgent } from "@hub/kit";
import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import type { PasswordsContext } from "../context.js";
import {
  ChangeCardPasswordInput,
  ResetCardPasswordInput,
  SetElectronicCardPasswordInput,
  VerifyCardPasswordInput,
  VerifyElectronicCardPasswordInput,
} from "../model/password-inputs.js";
import {
  ChangeCardPasswordPayload,
  ResetCardPasswordPayload,
  SetElectronicCardPasswordPayload,
  VerifyCardPasswordPayload,
  VerifyElectronicCardPasswordPayload,
} from "../model/verify.js";
import { checkOptionalPasswordFormat, checkPasswordFormat } from "../rules/password-policy.js";

@Resolver()
export class PasswordMutationsResolver {
  @Authorized("passwords:write")
  @UseMiddleware(AllowedChannels("verifyCardPassword"))
  @Mutation(() => VerifyCardPasswordPayload, {
    description:
      "Checks a social security password entry. Six consecutive wrong entries lock it (R-PWD-3); a correct one resets the count.",
  })
  async verifyCardPassword(
    @Arg("input", () => VerifyCardPasswordInput, {
      description: "The request; see its input type for each field.",
    })
    input: VerifyCardPasswordInput,
    @Ctx() ctx: PasswordsContext,
  ) {
    checkPasswordFormat("password", input.password);
    const verification = await ctx.commands.card.verify(
      input.cardId,
      input.password,
      ctx.now(),
      ctx.caller,
      ctx.effects,
    );
    return { ...verification, card: { id: input.cardId } };
  }

  @Authorized("passwords:write")
  @UseMiddleware(AllowedChannels("changeCardPassword"))
  @Mutation(() => ChangeCardPasswordPayload, {
    description:
      "Changes the social security password. Changing the initial password also enables the card's social security function (R-PWD-2). A locked password is PASSWORD_LOCKED.",
  })
  async changeCardPassword(
    @Arg("input", () => ChangeCardPasswordInput, {
      description: "The request; see its input type for each field.",
    })
    input: ChangeCardPasswordInput,
    @Ctx() ctx: PasswordsContext,
  ) {
    checkPasswordFormat("currentPassword", input.currentPassword);
    checkPasswordFormat("newPassword", input.newPassword);
    const change = await ctx.commands.card.change(
      input.cardId,
      input.currentPassword,
      input.newPassword,
      ctx.now(),
      ctx.caller,
      ctx.effects,
    );
    return { ...change, card: { id: input.cardId } };
  }

  @Authorized("passwords:write")
  @UseMiddleware(AllowedChannels("resetCardPassword"))
  @Mutation(() => ResetCardPasswordPayload, {
    description:
      "Unlocks and resets the password to the initial one, in person at a service institution (ID checked, form signed) or on the official website (R-PWD-3).",
  })
  async resetCardPassword(
    @Arg("input", () => ResetCardPasswordInput, {
      description: "The request; see its input type for each field.",
    })
    input: ResetCardPasswordInput,
    @Ctx() ctx: PasswordsContext,
  ) {
    const agent = validateAgent(input.agent, ctx.now());
    return {
      password: await ctx.commands.card.reset(
        input.cardId,
        agent,
        input.idempotencyKey,
        ctx.now(),
        ctx.caller,
        ctx.effects,
      ),
      card: { id: input.cardId },
    };
  }

  @Authorized("passwords:write")
  @UseMiddleware(AllowedChannels("setElectronicCardPassword"))
  @Mutation(() => SetElectronicCardPasswordPayload, {
    description:
      "Sets or changes the person's electronic-card password; it takes effect on every channel at once (R-PWD-5).",
  })
  async setElectronicCardPassword(
    @Arg("input", () => SetElectronicCardPasswordInput, {
      description: "The request; see its input type for each field.",
    })
    input: SetElectronicCardPasswordInput,
    @Ctx() ctx: PasswordsContext,
  ) {
    checkOptionalPasswordFormat("currentPassword", input.currentPassword);
    checkPasswordFormat("newPassword", input.newPassword);
    const view = await ctx.commands.electronic.set(
      input.personId,
      input.currentPassword,
      input.newPassword,
      ctx.now(),
      ctx.caller,
      ctx.effects,
    );
    return {
      status: { state: view.state, lockedUntil: view.lockedUntil },
      person: { id: input.personId },
    };
  }

  @Authorized("passwords:write")
  @UseMiddleware(AllowedChannels("verifyElectronicCardPassword"))
  @Mutation(() => VerifyElectronicCardPasswordPayload, {
    description:
      "Checks an electronic-card password entry. More than six wrong entries lock every electronic-card service on every channel for 24 hours (R-PWD-4).",
  })
  async verifyElectronicCardPassword(
    @Arg("input", () => VerifyElectronicCardPasswordInput, {
      description: "The request; see its input type for each field.",
    })
    input: VerifyElectronicCardPasswordInput,
    @Ctx() ctx: PasswordsContext,
  ) {
    checkPasswordFormat("password", input.password);
    const verification = await ctx.commands.electronic.verify(
      input.personId,
      input.password,
      ctx.now(),
      ctx.caller,
      ctx.effects,
    );
    return { ...verification, person: { id: input.personId } };
  }
}
