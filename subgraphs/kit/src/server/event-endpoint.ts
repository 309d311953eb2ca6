import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { HubError } from "../errors.js";
import { settleEffects, type PendingEffect } from "../events/effects.js";
import {
  EFFECT_BUDGET_HEADER,
  parseEventBatch,
  type EventBatchAnswer,
} from "../events/event-batch.js";
import { EVENTS_SCOPE } from "../events/hub-event.js";
import type { Inbox } from "../events/inbox.js";
import type { Logger } from "../logger.js";
import { errorBody, sendJson } from "./json-response.js";
import { BodyTooLarge, readBody } from "./read-body.js";
import { verifiedCaller } from "./verified-caller.js";

/** What a subgraph's POST /events needs (startSubgraphServer). */
export interface EventEndpoint {
  inbox: Inbox;
  /** Verifies the relay's service token. */
  verifier: TokenVerifier;
  logger: Logger;
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** The most the effects of received events are waited for (HUB_EFFECT_WAIT_MS). */
  effectWaitMs: number;
}

/**
 * POST /events: a batch of events from another subgraph's relay, applied by the inbox and
 * answered with what was applied, what failed, and the effects still pending further on.
 */
export async function receiveEvents(
  endpoint: EventEndpoint,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { inbox, logger } = endpoint;
  const caller = await verifiedCaller(endpoint.verifier, request, response);
  if (!caller) return;
  if (!caller.scopes.has(EVENTS_SCOPE))
    return sendJson(
      response,
      403,
      errorBody(new HubError("FORBIDDEN", "Only the event relay may deliver events.")),
    );
  let raw: string;
  try {
    raw = (await readBody(request, endpoint.maxBodyBytes)).toString("utf8");
  } catch (error) {
    // Too large a batch: the relay sends fewer events at a time (413), not the same again.
    if (error instanceof BodyTooLarge)
      return sendJson(
        response,
        413,
        errorBody(new HubError("BAD_USER_INPUT", "The batch of events is too large.")),
      );
    throw error;
  }
  const events = parseEventBatch(raw);
  if (!events)
    return sendJson(
      response,
      400,
      errorBody(new HubError("BAD_USER_INPUT", "The body is not a batch of events.")),
    );
  const { applied, effects, failed } = await inbox.applyBatch(events);
  if (failed) logger.warn({ events: events.length, applied, failed }, "a received event failed");
  else logger.info({ events: events.length, applied }, "events received");
  // The second hop: what these events caused here reaches its subgraphs before the relay that
  // sent them hears back, within the budget it gave.
  const budget = Math.min(
    endpoint.effectWaitMs,
    Number(request.headers[EFFECT_BUDGET_HEADER] ?? 0) || 0,
  );
  const pending: Record<string, PendingEffect[]> = {};
  await Promise.all(
    [...effects].map(async ([eventId, scope]) => {
      const late = await settleEffects(scope.deliveries, budget);
      if (late.length > 0) pending[eventId] = late;
    }),
  );
  return sendJson(response, 200, { applied, pending, failed } satisfies EventBatchAnswer);
}
