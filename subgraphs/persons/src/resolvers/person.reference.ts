import type { PersonsContext } from "../context.js";
import type { Person } from "../model/person.js";

/** Entity lookup for other subgraphs' references to a Person, batched per request. */
export const personReference = {
  Person: {
    __resolveReference: (
      reference: Pick<Person, "id">,
      ctx: PersonsContext,
    ): Promise<Person | null> => ctx.loaders.personById.load(reference.id),
  },
};
