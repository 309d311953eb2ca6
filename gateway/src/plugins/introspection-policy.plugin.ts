import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { hasScope, HubError } from "@hub/kit";
import type { ASTVisitor, ValidationContext } from "graphql";
import { callerOf, type AuthContext } from "./auth.plugin.js";

/** Refuses `__schema` and `__type` (not `__typename`) with FORBIDDEN. */
function noIntrospection(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      if (node.name.value === "__schema" || node.name.value === "__type") {
        context.reportError(
          new HubError("FORBIDDEN", 'Introspection needs the scope "schema:read".', {}, [node]),
        );
      }
    },
  };
}

/** Introspection only in development mode or for tokens with `schema:read` (analysts). */
export function useIntrospectionPolicy(development: boolean): GatewayPlugin<AuthContext> {
  return {
    onValidate({ addValidationRule, context }) {
      const caller = callerOf((context as { request: Request }).request);
      if (!development && !(caller && hasScope(caller, "schema:read")))
        addValidationRule(noIntrospection);
    },
  };
}
