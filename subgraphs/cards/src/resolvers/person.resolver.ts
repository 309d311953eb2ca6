import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { CardsContext } from "../context.js";
import { Card } from "../model/card.js";
import { DuplicateGroup } from "../model/duplicate-group.js";
import { Person } from "../model/person.js";
import { findDuplicates } from "../rules/duplicates.js";
import { effectiveStatus } from "../rules/validity.js";
import type { CardRecord } from "../store/card-repository.js";

@Resolver(() => Person)
export class PersonCardsResolver {
  @FieldResolver(() => [Card], {
    description: "Every card the person holds or held, oldest first.",
  })
  cards(@Root() person: Person, @Ctx() ctx: CardsContext): Promise<CardRecord[]> {
    return ctx.loaders.cardsByPersonId.load(person.id);
  }

  @FieldResolver(() => [DuplicateGroup], {
    description:
      "Groups of two or more cards in one province (R-DUP-1), with what to do about each (R-DUP-2). Empty when there are none.",
  })
  async duplicates(@Root() person: Person, @Ctx() ctx: CardsContext) {
    const now = ctx.now();
    const cards = await ctx.loaders.cardsByPersonId.load(person.id);
    const candidates = cards.map((card) => ({
      ...card,
      status: effectiveStatus(card, now),
      record: card,
    }));
    return findDuplicates(candidates).map((group) => ({
      province: group.province,
      cards: group.cards.map((c) => c.record),
      actions: group.actions,
    }));
  }
}
