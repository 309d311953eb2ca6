import type { Channel } from "../channels.js";
import { HubError } from "../errors.js";
import type { Scope } from "../scopes.js";

/** Who is calling, taken from a verified token: never from request input. */
export interface Caller {
  /** Operator or system id, recorded as the actor of events. */
  readonly sub: string;
  readonly channel: Channel;
  readonly scopes: ReadonlySet<string>;
  /**
   * When the token stops being valid (its `exp`, epoch milliseconds); absent for a token without
   * one. A long-lived stream outlives the check made when it opened: the gateway ends it here.
   */
  readonly expiresAt?: number;
}

export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes.has(scope);
}

export function requireScope(caller: Caller, scope: Scope): void {
  if (!hasScope(caller, scope)) {
    throw new HubError("FORBIDDEN", `This operation needs the scope "${scope}".`);
  }
}
