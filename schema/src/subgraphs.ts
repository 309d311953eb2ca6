import { buildBankAccountsSchema } from "@hub/bank-accounts";
import { buildCardsSchema } from "@hub/cards";
import { buildFeedSchema } from "@hub/feed";
import { buildPasswordsSchema } from "@hub/passwords";
import { buildPersonsSchema } from "@hub/persons";
import type { GraphQLSchema } from "graphql";

export interface SubgraphDefinition {
  name: string;
  /** URL written into the checked-in supergraph; deployments override it per subgraph. */
  defaultUrl: string;
  buildSchema: () => Promise<GraphQLSchema>;
}

/** The subgraphs of the hub, in composition order. */
export const SUBGRAPHS: readonly SubgraphDefinition[] = [
  { name: "persons", defaultUrl: "http://127.0.0.1:4001/graphql", buildSchema: buildPersonsSchema },
  { name: "cards", defaultUrl: "http://127.0.0.1:4002/graphql", buildSchema: buildCardsSchema },
  {
    name: "passwords",
    defaultUrl: "http://127.0.0.1:4003/graphql",
    buildSchema: buildPasswordsSchema,
  },
  {
    name: "bank-accounts",
    defaultUrl: "http://127.0.0.1:4004/graphql",
    buildSchema: buildBankAccountsSchema,
  },
  { name: "feed", defaultUrl: "http://127.0.0.1:4005/graphql", buildSchema: buildFeedSchema },
];
