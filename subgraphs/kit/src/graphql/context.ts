import type { Caller } from "../auth/caller.js";
import type { Clock } from "../clock.js";

/** The part of every subgraph's request context that the kit knows about. */
export interface HubContext {
  caller: Caller;
  requestId: string;
  now: Clock;
}
