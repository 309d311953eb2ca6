import { groupedLoader, keyedLoader } from "@hub/kit";
import type { CardRepository } from "./card-repository.js";

/** Per-request loaders: one round trip per batch, however many cards or persons a query has. */
export function createCardLoaders(repository: CardRepository) {
  const cardById = keyedLoader(
    (ids: readonly string[]) => repository.findByIds(ids),
    (card) => card.id,
  );
  return {
    cardById,
    // A person's cards are also the cards its cards' `replaces`/`replacedBy` name (a replacement
    // stays with its holder): primed by id, those links cost no second round trip.
    cardsByPersonId: groupedLoader(
      async (personIds: readonly string[]) => {
        const cards = await repository.findByPersonIds(personIds);
        for (const card of cards) cardById.prime(card.id, card);
        return cards;
      },
      (card) => card.personId,
    ),
    eventsByCardId: groupedLoader(
      (cardIds: readonly string[]) => repository.findEventsByCardIds(cardIds),
      (event) => event.cardId,
    ),
  };
}

export type CardLoaders = ReturnType<typeof createCardLoaders>;
