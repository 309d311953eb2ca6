import type { GraphiQLOptions } from "graphql-yoga";
import type { NamedOperation } from "./contract-operations.js";

/** Example variables for the contract's operations, using the demo data's showcase ids. */
export type ExampleVariables = Record<string, Record<string, unknown>>;

/**
 * The analyst sandbox: GraphiQL whose scripts and styles are inlined by
 * @graphql-yoga/render-graphiql, so it renders with no internet access. Each contract operation is
 * a ready tab; the token goes in the headers tab.
 */
export function sandboxOptions(
  operations: NamedOperation[],
  examples: ExampleVariables,
): { graphiql: GraphiQLOptions; renderGraphiQL: (options: GraphiQLOptions) => Promise<string> } {
  return {
    graphiql: {
      title: "Card hub",
      headers: JSON.stringify(
        { Authorization: "Bearer <paste the token printed by npm start>" },
        null,
        2,
      ),
      shouldPersistHeaders: true,
      defaultTabs: operations.map((op) => ({
        query: op.document,
        variables: JSON.stringify(examples[op.name] ?? {}, null, 2),
      })),
    },
    // Loaded on the first page view: the inlined GraphiQL bundle is ~30 MB of strings in the heap
    // (a heap snapshot of the gateway), which a gateway nobody opens the sandbox on should not carry.
    renderGraphiQL: async (options) =>
      (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(options),
  };
}
