import type { CardsContext } from "../context.js";
import type { CardRecord } from "../store/card-repository.js";

/** Entity lookups for other subgraphs' references, batched per request. */
export const cardsReferences = {
  Card: {
    __resolveReference: (
      reference: { id: string },
      ctx: CardsContext,
    ): Promise<CardRecord | null> => ctx.loaders.cardById.load(reference.id),
  },
  Person: {
    // Any person id is a valid reference here: a person without cards has an empty list.
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
  },
};
