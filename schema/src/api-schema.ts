import { printSchema, Supergraph } from "@apollo/federation-internals";
import { buildSchema, type GraphQLSchema } from "graphql";

/**
 * The schema clients see: the supergraph without its join/link machinery. Rebuilt from its SDL so
 * the result belongs to this module's graphql instance (federation-internals loads graphql's
 * CommonJS build, which has classes of its own).
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return buildSchema(printSchema(Supergraph.build(supergraphSdl).apiSchema()));
}
