import { groupedLoader, keyedLoader } from "@hub/kit";
import type { CardRepository } from "./card-repository.js";

/** Per-request loaders: one round trip per batch, however many cards or persons a query has. */
export function createCardLoaders(repository: CardRepository) {
  return {
    cardById: keyedLoader(
      (ids: readonly string[]) => repository.findByIds(ids),
      (card) => card.id,
    ),
    cardsByPersonId: groupedLoader(
      (personIds: readonly string[]) => repository.findByPersonIds(personIds),
      (card) => card.personId,
    ),
    eventsByCardId: groupedLoader(
      (cardIds: readonly string[]) => repository.findEventsByCardIds(cardIds),
      (event) => event.cardId,
    ),
  };
}

export type CardLoaders = ReturnType<typeof createCardLoaders>;
