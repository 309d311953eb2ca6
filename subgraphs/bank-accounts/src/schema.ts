import { buildFederatedSchema } from "@hub/kit";
import type { GraphQLSchema } from "graphql";
import { BankAccount, Card } from "./model/bank-account.js";
import { CardBankAccountResolver } from "./resolvers/bank-account.resolver.js";
import { BankMutationsResolver } from "./resolvers/bank-mutations.resolver.js";
import { bankAccountsReferences } from "./resolvers/references.js";

export function buildBankAccountsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [CardBankAccountResolver, BankMutationsResolver],
      orphanedTypes: [Card, BankAccount],
    },
    bankAccountsReferences,
  );
}
