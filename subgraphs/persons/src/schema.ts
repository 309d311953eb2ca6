import { buildFederatedSchema } from "@hub/kit";
import type { GraphQLSchema } from "graphql";
import { Person } from "./model/person.js";
import { personReference } from "./resolvers/person.reference.js";
import { PersonResolver } from "./resolvers/person.resolver.js";

export function buildPersonsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({ resolvers: [PersonResolver], orphanedTypes: [Person] }, personReference);
}
