import { composeServices } from "@apollo/composition";
import { printSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { SUBGRAPHS } from "./subgraphs.js";

export interface Composition {
  /** Subgraph name → its SDL. */
  subgraphs: Map<string, string>;
  supergraph: string;
}

export class CompositionError extends Error {}

/** Composes the supergraph from the subgraphs' TypeGraphQL schemas; fails on any composition error. */
export async function composeSupergraph(): Promise<Composition> {
  const subgraphs = new Map<string, string>();
  for (const subgraph of SUBGRAPHS)
    subgraphs.set(subgraph.name, printSubgraphSchema(await subgraph.buildSchema()) + "\n");
  const result = composeServices(
    SUBGRAPHS.map((s) => ({
      name: s.name,
      url: s.defaultUrl,
      typeDefs: parse(subgraphs.get(s.name) ?? ""),
    })),
  );
  if (result.errors) {
    throw new CompositionError(
      `Composition failed:\n${result.errors.map((e) => `- ${e.message}`).join("\n")}`,
    );
  }
  return { subgraphs, supergraph: result.supergraphSdl + "\n" };
}
