import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import type { ValidationRule } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import type { AuthContext } from "./auth.plugin.js";

/** Media types a POST may carry (GraphQL over HTTP: JSON; anything else is not a GraphQL request). */
const ACCEPTED_BODIES = ["application/json", "application/graphql+json"];

function badRequest(status: number, message: string, headers: Record<string, string> = {}) {
  return new Response(
    JSON.stringify({ errors: [{ message, extensions: { code: "BAD_REQUEST" } }] }),
    {
      status,
      headers: { "content-type": "application/json; charset=utf-8", ...headers },
    },
  );
}

/**
 * A subscription (or any operation type the schema does not offer) is a validation error, not an
 * execution failure: graphql-js validation does not check it (graphql 17's
 * KnownOperationTypesRule does).
 */
const KnownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation))
      context.reportError(
        // The runtime's own error class, so it treats this like its other validation errors.
        createGraphQLError(`This schema has no ${node.operation} operations.`, { nodes: node }),
      );
  },
});

/**
 * The parts of GraphQL over HTTP the runtime leaves out: a POST body that is not JSON gets 415
 * with a JSON error (`BAD_REQUEST`), not an empty answer (and form posts, which a browser sends
 * cross-site without asking, are not taken); an operation type the schema lacks fails validation;
 * a failed root field answers `data: null` beside its error (the subgraph sends it; the query
 * planner runtime drops it), so the HTTP status stays 200 as for any field error.
 */
export function useGraphQLOverHttp(): GatewayPlugin<AuthContext> {
  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== "POST" || url.pathname !== "/graphql") return;
      const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (!ACCEPTED_BODIES.includes(type))
        endResponse(
          badRequest(
            415,
            `A GraphQL request is sent as application/json${type ? `, not ${type}` : ""}.`,
            { accept: ACCEPTED_BODIES.join(", ") },
          ),
        );
    },
    onValidate({ addValidationRule }) {
      addValidationRule(KnownOperationTypes);
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if ("data" in result || !("errors" in result) || !result.errors?.length) return;
          // Only field errors (they have a path): request errors have no data by design.
          if (result.errors.some((error) => error.path?.length))
            setResult({ ...result, data: null });
        },
      };
    },
  };
}
