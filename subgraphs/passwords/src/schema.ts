import { buildFederatedSchema } from "@hub/kit";
import type { GraphQLSchema } from "graphql";
import { Card, Person } from "./model/entities.js";
import { CardPasswordResolver, ElectronicPasswordResolver } from "./resolvers/password.resolver.js";
import { PasswordMutationsResolver } from "./resolvers/password-mutations.resolver.js";
import { passwordsReferences } from "./resolvers/references.js";

export function buildPasswordsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [CardPasswordResolver, ElectronicPasswordResolver, PasswordMutationsResolver],
      orphanedTypes: [Card, Person],
    },
    passwordsReferences,
  );
}
