import type { MiddlewareFn } from "type-graphql";
import { hasScope } from "../auth/caller.js";
import type { HubContext } from "./context.js";

/**
 * R-ID-3 declared on the field: `@UseMiddleware(MaskedPii(maskIdNumber))` masks the value unless
 * the caller holds `pii:read`. It runs in the subgraph that owns the field, so the full value
 * never leaves it for a caller who may not see it.
 */
export function MaskedPii(mask: (value: string) => string): MiddlewareFn<HubContext> {
  return async ({ context }, next) => {
    const value: unknown = await next();
    if (typeof value !== "string" || hasScope(context.caller, "pii:read")) return value;
    return mask(value);
  };
}
