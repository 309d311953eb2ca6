import type { MiddlewareFn } from "type-graphql";
import { requireChannel, type PolicyOperation } from "../policy/channel-policy.js";
import type { HubContext } from "./context.js";

/**
 * `@UseMiddleware(AllowedChannels("cancelCard"))` on a mutation: the channel table of the contract
 * is enforced before the resolver runs, from the token's channel (never from input).
 */
export function AllowedChannels(operation: PolicyOperation): MiddlewareFn<HubContext> {
  return async ({ context }, next) => {
    requireChannel(operation, context.caller.channel);
    return next();
  };
}
