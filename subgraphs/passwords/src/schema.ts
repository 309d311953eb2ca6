import { buildFederatedSchema } from "@hub/kit";
import type { GraphQLSchema } from "graphql";
import { Card, Person } from "./model/entities.js";
import { CardPasswordResolver, ElectronicPasswordResolver } from "./resolvers/password.resolver.js";
import { passwordsReferences } from "./resolvers/references.js";

export function buildPasswordsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({ resolvers: [CardPasswordResolver, ElectronicPasswordResolver], orphanedTypes: [Card, Person] }, passwordsReferences);
}
