import { EnvelopArmor } from "@escape.tech/graphql-armor";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import { HubError } from "@hub/kit";
import { useCostLimit } from "./cost-limit.plugin.js";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  /** See query-cost.ts: every field counts, objects more, deeper ones more again. */
  maxCost: number;
}

/**
 * Large enough for every contract operation (a test checks; the largest, PersonCards, costs about
 * 156) and for the federation audit's queries, small enough to stop abuse. Settable by
 * HUB_QUERY_MAX_* (docs/configuration.md).
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  maxTokens: 1500,
  maxCost: 500,
};

/**
 * Query limits, applied while validating — before any subgraph is called: depth, aliases,
 * directives and tokens by graphql-armor, cost by our estimator (cost-limit.plugin.ts). Every violation
 * is reported, each as QUERY_TOO_COMPLEX. Field suggestions ("did you mean …") are
 * blocked outside development so the schema cannot be mined through typos.
 */
export function useQueryLimits(limits: QueryLimits, development: boolean) {
  const reject: GraphQLArmorRejectCallback = (context, error) => {
    const limitError = new HubError(
      "QUERY_TOO_COMPLEX",
      error.message.replace(/^Syntax Error: /, ""),
    );
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
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: !development },
  })
    .protect()
    .plugins.concat(useCostLimit(limits.maxCost));
}
