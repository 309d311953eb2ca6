import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/index.js";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import type { GraphQLFieldResolver, GraphQLSchema } from "graphql";
import { gql } from "graphql-tag";
import { scopeAuthChecker } from "../graphql/auth-checker.js";
import type { HubContext } from "../graphql/context.js";
import { buildSchema, createResolversMap, type BuildSchemaOptions } from "type-graphql";

/** Entity lookups (`__resolveReference`) per type name, added beside TypeGraphQL's resolvers. */
export type ReferenceResolvers = Record<
  string,
  { __resolveReference: (...args: never[]) => unknown }
>;

const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])`;

/**
 * TypeGraphQL → Federation 2 subgraph, as in type-graphql's apollo-federation-2 example: build the
 * TypeGraphQL schema, print it with its `@key` directives, and let @apollo/subgraph add the
 * federation fields (`_service`, `_entities`).
 */
export async function buildFederatedSchema(
  options: Omit<BuildSchemaOptions, "skipCheck">,
  referenceResolvers: ReferenceResolvers = {},
): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    authChecker: scopeAuthChecker,
    ...options,
    skipCheck: true,
  });
  const resolvers = createResolversMap(schema) as Record<string, object>;
  if (resolvers["Mutation"]) resolvers["Mutation"] = markingWrites(resolvers["Mutation"]);
  for (const [typeName, reference] of Object.entries(referenceResolvers)) {
    resolvers[typeName] = { ...(resolvers[typeName] ?? {}), ...reference };
  }
  return buildSubgraphSchema({
    typeDefs: gql(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    // createResolversMap's type is TypeGraphQL's; @apollo/subgraph declares its own equivalent map.
    resolvers: resolvers as unknown as GraphQLResolverMap<unknown>,
  });
}

type FieldResolver = GraphQLFieldResolver<unknown, HubContext>;

/**
 * A mutation field marks its request's effect scope as writing work (its subgraph call is then
 * logged at info). The events its writes commit reach the scope through the resolvers, which pass
 * `context.effects` to the commands.
 */
function markingWrites(fields: object): Record<string, FieldResolver> {
  return Object.fromEntries(
    Object.entries(fields as Record<string, FieldResolver>).map(([name, resolve]) => [
      name,
      ((source, args, context, info) => {
        context.effects.wrote = true;
        return resolve(source, args, context, info);
      }) as FieldResolver,
    ]),
  );
}
