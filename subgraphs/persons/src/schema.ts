import { buildFederatedSchema } from "@hub/kit";
import type { GraphQLSchema } from "graphql";
import { Person } from "./model/person.js";
import { personReference } from "./resolvers/person.reference.js";
import { PersonResolver } from "./resolvers/person.resolver.js";
import { RegisterPersonResolver } from "./resolvers/register-person.resolver.js";

export function buildPersonsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [PersonResolver, RegisterPersonResolver], orphanedTypes: [Person] },
    personReference,
  );
}
