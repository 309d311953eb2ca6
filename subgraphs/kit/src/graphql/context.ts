import type { Caller } from "../auth/caller.js";
import type { Clock } from "../clock.js";
import type { EffectScope } from "../events/effects.js";

/** The part of every subgraph's request context that the kit knows about. */
export interface HubContext {
  caller: Caller;
  requestId: string;
  now: Clock;
  /** Collects the deliveries of the request's committed writes (mutation fields run inside it). */
  effects: EffectScope;
}
