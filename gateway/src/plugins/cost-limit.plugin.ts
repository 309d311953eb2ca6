import type { Plugin as EnvelopPlugin } from "@envelop/core";
import { HubError } from "@hub/kit";
import { Kind, type FragmentDefinitionNode, type ValidationRule } from "graphql";
import { operationCost } from "../query-cost.js";

/** Each operation's cost (query-cost.ts) within `maxCost`. */
export function useCostLimit(maxCost: number): EnvelopPlugin {
  const rule: ValidationRule = (context) => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of context.getDocument().definitions)
      if (definition.kind === Kind.FRAGMENT_DEFINITION)
        fragments[definition.name.value] = definition;
    return {
      OperationDefinition(operation) {
        const cost = operationCost(context.getSchema(), operation, fragments);
        if (cost > maxCost)
          context.reportError(
            new HubError(
              "QUERY_TOO_COMPLEX",
              `Query Cost limit of ${maxCost} exceeded, found ${Math.round(cost)}.`,
            ),
          );
      },
    };
  };
  return { onValidate: ({ addValidationRule }) => addValidationRule(rule) };
}
