import { buildFederatedSchema } from "@hub/kit";
import type { GraphQLSchema } from "graphql";
import { Card } from "./model/card.js";
import { Person } from "./model/person.js";
import { CardMutationsResolver } from "./resolvers/card-mutations.resolver.js";
import { CardResolver } from "./resolvers/card.resolver.js";
import { PersonCardsResolver } from "./resolvers/person.resolver.js";
import { cardsReferences } from "./resolvers/references.js";

export function buildCardsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [CardResolver, PersonCardsResolver, CardMutationsResolver],
      orphanedTypes: [Card, Person],
    },
    cardsReferences,
  );
}
