import type { AuthChecker } from "type-graphql";
import { hasScope } from "../auth/caller.js";
import { HubError } from "../errors.js";
import type { Scope } from "../scopes.js";
import type { HubContext } from "./context.js";

/**
 * Scopes are declared on fields with `@Authorized("cards:read")`; this checker enforces them and
 * answers FORBIDDEN naming the missing scope (CONTRACT.md).
 */
export const scopeAuthChecker: AuthChecker<HubContext, Scope> = ({ context }, scopes) => {
  const missing = scopes.find((scope) => !hasScope(context.caller, scope));
  if (missing) throw new HubError("FORBIDDEN", `This operation needs the scope "${missing}".`);
  return true;
};
