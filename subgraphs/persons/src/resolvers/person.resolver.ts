import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import type { PersonsContext } from "../context.js";
import { Person } from "../model/person.js";
import { checkIdNumber, HubError } from "@hub/kit";

/** Largest batch of ids one `persons` query may ask for. */
export const MAX_PERSON_IDS = 500;

@Resolver(() => Person)
export class PersonResolver {
  @Authorized("cards:read")
  @Query(() => Person, { nullable: true, description: "A person by opaque id; null when unknown." })
  async person(
    @Arg("id", () => ID, { description: "The person's opaque id." }) id: string,
    @Ctx() ctx: PersonsContext,
  ): Promise<Person | null> {
    return ctx.loaders.personById.load(id);
  }

  @Authorized("cards:read")
  @Query(() => [Person], {
    nullable: "items",
    description: `Many persons at once, in the order of the ids asked for (null for an unknown id). At most ${MAX_PERSON_IDS} ids.`,
  })
  async persons(
    @Arg("ids", () => [ID], { description: "Opaque person ids." }) ids: string[],
    @Ctx() ctx: PersonsContext,
  ): Promise<(Person | null)[]> {
    if (ids.length > MAX_PERSON_IDS) {
      throw new HubError(
        "BAD_USER_INPUT",
        `At most ${MAX_PERSON_IDS} ids may be asked for at once.`,
      );
    }
    return ctx.loaders.personById.loadMany(ids).then((rows) =>
      rows.map((row) => {
        if (row instanceof Error) throw row;
        return row;
      }),
    );
  }

  @Authorized("cards:read")
  @Query(() => Person, {
    nullable: true,
    description:
      "A person by citizen identity number (the social security number, R-ID-1). A malformed number is an INVALID_ID_NUMBER error; an unknown one answers null.",
  })
  async personByIdNumber(
    @Arg("idNumber", () => String, { description: "18-character citizen identity number." })
    idNumber: string,
    @Ctx() ctx: PersonsContext,
  ): Promise<Person | null> {
    const check = checkIdNumber(idNumber, ctx.now());
    if (!check.valid) throw new HubError("INVALID_ID_NUMBER", check.reason);
    return ctx.loaders.personByIdNumber.load(check.idNumber);
  }
}
