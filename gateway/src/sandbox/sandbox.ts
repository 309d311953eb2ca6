import type { GraphiQLOptions } from "graphql-yoga";
import type { NamedOperation } from "./contract-operations.js";

/** Example variables for the contract's operations, using the demo data's showcase ids. */
export type ExampleVariables = Record<string, Record<string, unknown>>;

/**
 * The GraphiQL bundled with Yoga keeps each tab's variables in its tab state but neither shows nor
 * sends them (the variables pane opens empty; graphql/graphiql#3392), so the tab's document itself
 * names the example values to paste. A comment changes nothing the server runs.
 */
export function withExampleComment(
  document: string,
  variables: Record<string, unknown> | undefined,
): string {
  if (!variables || Object.keys(variables).length === 0) return document;
  return `# Example variables from the demo data (paste them into Variables below):\n# ${JSON.stringify(variables)}\n${document}`;
}

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
        query: withExampleComment(op.document, examples[op.name]),
        variables: JSON.stringify(examples[op.name] ?? {}, null, 2),
      })),
    },
    // Loaded on the first page view: the inlined GraphiQL bundle is ~30 MB of strings in the heap
    // (a heap snapshot of the gateway), which a gateway nobody opens the sandbox on should not carry.
    renderGraphiQL: async (options) =>
      (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(options),
  };
}
