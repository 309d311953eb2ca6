import type { GraphiQLOptions } from "graphql-yoga";
import type { NamedOperation } from "./contract-operations.js";

/** Example variables for the contract's operations, using the demo data's showcase ids. */
export type ExampleVariables = Record<string, Record<string, unknown>>;

export interface SandboxSettings {
  operations: NamedOperation[];
  examples: ExampleVariables;
  /**
   * Development on a loopback address only: a development token for the Headers pane, minted for
   * each page view. Absent elsewhere: nothing is pre-filled.
   */
  developmentToken?: () => Promise<string>;
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** Yoga's options, plus `variables`, which its bundled GraphiQL takes though the type omits it. */
export type SandboxPage = GraphiQLOptions & { variables?: string | undefined };

/**
 * The analyst sandbox: GraphiQL whose scripts and styles are inlined by
 * @graphql-yoga/render-graphiql, so it renders with no internet access. Each contract operation is
 * a tab. In development on loopback each tab carries its example variables from the demo data and
 * the headers carry a development token, so Run answers at once; otherwise the token is to be
 * pasted and the variables filled in. Subscriptions (the feed's CardEvents) run over GraphQL over
 * SSE at /graphql, with the headers pane's token, so an analyst sees events arrive while running a
 * mutation in another tab.
 */
export function sandboxOptions(settings: SandboxSettings): {
  graphiql: (request: Request) => Promise<SandboxPage>;
  renderGraphiQL: (options: GraphiQLOptions) => Promise<string>;
} {
  const prefilled = Boolean(settings.developmentToken);
  const variablesOf = (name: string | undefined) =>
    prefilled && name && settings.examples[name] ? pretty(settings.examples[name]) : undefined;
  return {
    graphiql: async () => ({
      title: "Card hub",
      headers: pretty({
        Authorization: settings.developmentToken
          ? `Bearer ${await settings.developmentToken()}`
          : "Bearer <paste the token printed by npm start>",
      }),
      shouldPersistHeaders: !prefilled,
      // GraphQL over SSE (graphql-sse's protocol, distinct connections) at /graphql itself: what
      // channels use, and it carries the headers pane's Authorization like any request (a
      // WebSocket could not). Yoga's default today, stated so that a change of default cannot
      // silently move the sandbox to another path or protocol.
      subscriptionsProtocol: "GRAPHQL_SSE",
      // POST for every operation: a subscription's variables (a person's id) stay out of URLs.
      method: "POST",
      defaultTabs: settings.operations.map((op) => ({
        query: op.document,
        variables: variablesOf(op.name),
      })),
      // GraphiQL fills the variables pane of the tab open at start from this, not from its tab
      // (the other tabs' variables show when they are opened).
      variables: variablesOf(settings.operations[0]?.name),
    }),
    // Loaded on the first page view: the inlined GraphiQL bundle is ~30 MB of strings in the heap
    // (a heap snapshot of the gateway), which a gateway nobody opens the sandbox on should not carry.
    renderGraphiQL: async (options) =>
      (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(options),
  };
}

/** Whether an address only this machine can reach is what the gateway listens on. */
export function isLoopbackHost(host: string | undefined): boolean {
  return host === undefined || host === "localhost" || host === "::1" || /^127\./.test(host);
}
