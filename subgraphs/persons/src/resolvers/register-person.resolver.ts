import { AllowedChannels, documentKey, isDuplicateKeyError } from "@hub/kit";
import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import { alreadyRegistered } from "../commands/register-person.js";
import type { PersonsContext } from "../context.js";
import { RegisterPersonInput, RegisterPersonPayload } from "../model/register-person.js";
import { validatePersonInput } from "../rules/person-input.js";

@Resolver()
export class RegisterPersonResolver {
  @Authorized("persons:write")
  @UseMiddleware(AllowedChannels("registerPerson"))
  @Mutation(() => RegisterPersonPayload, {
    description:
      "Registers a cardholder. A second registration of one identity number is a CONFLICT.",
  })
  async registerPerson(
    @Arg("input", () => RegisterPersonInput, {
      description: "The request; see its input type for each field.",
    })
    input: RegisterPersonInput,
    @Ctx() ctx: PersonsContext,
  ): Promise<RegisterPersonPayload> {
    const person = validatePersonInput(input, ctx.now());
    try {
      const personId = await ctx.registration.register(
        person,
        ctx.now(),
        ctx.caller,
        documentKey(ctx.caller.channel, "registerPerson", input.idempotencyKey, person),
        ctx.effects,
      );
      const stored = await ctx.loaders.personById.load(personId);
      if (!stored) throw new Error(`registered person ${personId} not found`);
      return { person: stored };
    } catch (error) {
      if (isDuplicateKeyError(error)) throw alreadyRegistered();
      throw error;
    }
  }
}
