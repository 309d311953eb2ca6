import { EnvelopArmor } from "@escape.tech/graphql-armor";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import { GraphQLError } from "graphql";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  /** graphql-armor's cost: every field counts, objects and lists more, deeper ones more again. */
  maxCost: number;
}

/**
 * Large enough for every contract operation (a test checks; the largest, PersonCards, costs about
 * 156), small enough to stop abuse.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  maxTokens: 1500,
  maxCost: 500,
};

/**
 * Query limits by graphql-armor, applied while validating — before any subgraph is called. Every
 * violation is reported, each as QUERY_TOO_COMPLEX. Field suggestions ("did you mean …") are
 * blocked outside development so the schema cannot be mined through typos.
 */
export function queryLimitPlugins(limits: QueryLimits, development: boolean) {
  const reject: GraphQLArmorRejectCallback = (context, error) => {
    const limitError = new GraphQLError(error.message.replace(/^Syntax Error: /, ""), {
      extensions: { code: "QUERY_TOO_COMPLEX" },
    });
    // The token limit is checked while parsing, where there is no validation context to report to.
    if (!context) throw limitError;
    context.reportError(limitError);
  };
  const callbacks = { propagateOnRejection: false, onReject: [reject] };
  return new EnvelopArmor({
    maxDepth: { n: limits.maxDepth, ...callbacks },
    maxAliases: { n: limits.maxAliases, ...callbacks },
    maxDirectives: { n: limits.maxDirectives, ...callbacks },
    maxTokens: { n: limits.maxTokens, ...callbacks },
    costLimit: { maxCost: limits.maxCost, ...callbacks },
    blockFieldSuggestion: { enabled: !development },
  }).protect().plugins;
}
