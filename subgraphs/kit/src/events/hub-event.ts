import type { Channel } from "../channels.js";
import type { EventTraceContext } from "../tracing/events.js";

/**
 * An effect that crosses subgraphs (R-BANK-2, R-PWD-2, card issued/lost/cancelled → bank
 * account). It carries the original actor and channel into the receiving subgraph's history.
 */
export interface HubEvent extends EventTraceContext {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  actor: string;
  channel: Channel;
  occurredAt: string;
  /** The subgraph that produced it. */
  source: string;
}

/** Scope of the relay's service token: only the /events endpoint accepts it. */
export const EVENTS_SCOPE = "events:deliver";
