import { z } from "zod";
import type { PendingEffect } from "./effects.js";
import type { HubEvent } from "./hub-event.js";
import type { FailedEvent } from "./inbox.js";

/**
 * How long a receiver may spend delivering the effects of what it applies before it answers the
 * relay (milliseconds): the second hop of "an answer shows its own effects".
 */
export const EFFECT_BUDGET_HEADER = "x-hub-effect-budget-ms";

/**
 * What a receiver answers for a batch: how many of its first events it applied, per event id its
 * effects still pending downstream, and the event that failed (the batch stopped there).
 */
export interface EventBatchAnswer {
  applied: number;
  pending: Record<string, PendingEffect[]>;
  failed?: FailedEvent | null;
}

const hubEvent = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  payload: z.record(z.string(), z.unknown()),
  actor: z.string(),
  channel: z.string(),
  occurredAt: z.string(),
  source: z.string(),
  // The trace it was written in (tracing/events.ts): one that does not parse is dropped, not the
  // batch.
  traceparent: z.string().max(55).optional().catch(undefined),
  tracestate: z.string().max(512).optional().catch(undefined),
});

const eventBatch = z.object({ events: z.array(hubEvent).min(1).max(1_000) });

/** A delivery's body, checked: null when it is not a batch of events. */
export function parseEventBatch(raw: string): HubEvent[] | null {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = eventBatch.safeParse(body);
  // The channel is one the relay's own subgraph recorded; it is carried, not checked, here.
  return parsed.success ? (parsed.data.events as HubEvent[]) : null;
}

const pendingEffect = z.object({
  eventId: z.string(),
  type: z.string(),
  destination: z.string(),
});

const batchAnswer = z.object({
  applied: z.number().int().min(0),
  pending: z.record(z.string(), z.array(pendingEffect)).default({}),
  failed: z.object({ eventId: z.string(), error: z.string() }).nullish(),
});

/**
 * A receiver's answer to `batch`, checked against what was sent: the events it applied (the
 * batch's first `applied`), and the one that failed right after them, if any. Throws when the
 * answer does not fit the batch, so the relay keeps every event and sends them again rather than
 * deleting one that was never applied.
 */
export function readAnswer<T extends { eventId: string }>(
  batch: readonly T[],
  body: unknown,
): { accepted: T[]; failed: EventBatchAnswer["failed"]; pending: EventBatchAnswer["pending"] } {
  const parsed = batchAnswer.safeParse(body);
  if (!parsed.success) throw new Error(`not a batch answer: ${z.prettifyError(parsed.error)}`);
  const { applied, pending, failed } = parsed.data;
  if (applied > batch.length) throw new Error(`applied ${applied} of ${batch.length} events`);
  if (failed && batch[applied]?.eventId !== failed.eventId)
    throw new Error(
      `failed ${failed.eventId}, which is not the event after the ${applied} applied`,
    );
  if (!failed && applied === 0) throw new Error("applied none of the events and named no failure");
  return { accepted: batch.slice(0, applied), failed: failed ?? null, pending };
}
