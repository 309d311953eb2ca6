import type { DatabaseClock, LaneLeases, Lease, Logger } from "@hub/kit";
import type { LogEntry } from "./card-event-source.js";
import { decideAfterAttempt, type ScheduleOptions } from "./delivery-schedule.js";
import type { SecretCipher } from "./secrets.js";
import type { TargetPolicy } from "./target-policy.js";
import { attemptDelivery, failureOf } from "./webhook-attempt.js";
import type { WebhookDocument, WebhookStore } from "./webhook-store.js";

/** What delivering one entry needs of the webhook deliverer (startWebhookDeliverer). */
export interface EntryDeliverer {
  store: WebhookStore;
  clock: DatabaseClock;
  leases: LaneLeases;
  schedule: ScheduleOptions;
  policy: TargetPolicy;
  cipher: SecretCipher;
  logger: Logger;
  /** Aborted when the deliverer stops: cuts off the attempt in flight. */
  signal: AbortSignal;
  /** False once the deliverer stops. */
  running(): boolean;
  /** Tries the webhook's lane again after `delayMs` (when its backoff ends). */
  retryAfter(id: string, delayMs: number): void;
}

/** What handling one entry came to. */
export type Handled = "moved-on" | "wait" | "lost-lane" | "stopped";

/**
 * Delivers `entry` to `webhook` while holding its lane (one attempt, or notes that it was handled
 * before), and records what came of it: the webhook moves past the entry once it is delivered or
 * has failed for good; otherwise the lane backs off until the entry's next attempt.
 */
export async function deliverEntry(
  deliverer: EntryDeliverer,
  lease: Lease,
  webhook: WebhookDocument,
  entry: LogEntry,
  backedOff: { value: boolean },
): Promise<Handled> {
  const { store, clock, leases, schedule, logger } = deliverer;
  const id = webhook._id;
  const before = await store.delivery(id, entry.eventId);
  const now = clock.now();
  if (before && before.status !== "RETRYING") {
    // Delivered or failed by an owner that stopped before moving the webhook past it.
    await store.advance(id, entry.seq, now);
    return "moved-on";
  }
  if (before?.nextAttemptAt && before.nextAttemptAt.getTime() > now.getTime()) {
    deliverer.retryAfter(id, before.nextAttemptAt.getTime() - now.getTime());
    return "wait";
  }
  // The answer must come while the lane is certainly this replica's (LaneLeases.remainingMs).
  if (!(await leases.confirm(lease))) return "lost-lane";
  let timeoutMs = Math.min(schedule.timeoutMs, leases.remainingMs(lease));
  if (timeoutMs < schedule.timeoutMs) {
    if (!(await leases.confirm(lease, true))) return "lost-lane";
    timeoutMs = Math.min(schedule.timeoutMs, leases.remainingMs(lease));
  }
  const result = await attemptDelivery(
    { policy: deliverer.policy, cipher: deliverer.cipher, signal: deliverer.signal },
    webhook,
    entry,
    now,
    Math.max(1, timeoutMs),
  );
  // Cut off by stop(): not the receiver's failure, and not counted.
  if (!deliverer.running()) return "stopped";
  const after = clock.now();
  const attempts = (before?.attempts ?? 0) + 1;
  const decision = decideAfterAttempt(
    result,
    {
      attempts: before?.attempts ?? 0,
      firstAttemptAt: before?.firstAttemptAt ?? now,
      webhookFailing: webhook.status === "FAILING",
    },
    after,
    schedule,
  );
  // Only the lane's owner records: a replica paused since it sent may hold a stale answer.
  if (!(await leases.confirm(lease, true))) return "lost-lane";
  const lastError = failureOf(result, decision.delivery, timeoutMs);
  const recorded = await store.recordAttempt({
    webhook,
    eventId: entry.eventId,
    seq: entry.seq,
    status: decision.delivery,
    attempts,
    previousAttempts: before?.attempts ?? 0,
    at: now,
    nextAttemptAt: decision.delivery === "RETRYING" ? decision.nextAttemptAt : null,
    responseStatus: result.kind === "response" ? result.status : null,
    lastError,
  });
  if (!recorded) return "lost-lane";
  if (decision.delivery === "DELIVERED") {
    await store.advance(id, entry.seq, after, "ACTIVE");
    if (webhook.status === "FAILING")
      logger.info({ webhookId: id }, "webhook delivers again: ACTIVE");
    webhook.status = "ACTIVE";
    if (backedOff.value) {
      await leases.clearBackoff(lease);
      backedOff.value = false;
    }
    return "moved-on";
  }
  if (decision.delivery === "FAILED" && decision.webhook === "DISABLED") {
    await store.disable(id, "its receiver answered 410 Gone", after);
    logger.warn({ webhookId: id, eventId: entry.eventId }, "webhook disabled: 410 Gone");
    return "stopped";
  }
  // Retried after the backoff, by whichever replica holds the lane then.
  await leases.backOff(lease, {
    attempts,
    backoffMs: decision.delayMs,
    error: lastError ?? "failed",
    eventFailed: false,
  });
  backedOff.value = true;
  deliverer.retryAfter(id, decision.delayMs);
  if (decision.delivery === "FAILED") {
    await store.advance(id, entry.seq, after, "FAILING");
    webhook.status = "FAILING";
    logger.warn(
      { webhookId: id, eventId: entry.eventId, attempts, error: lastError },
      "webhook delivery gave up at its horizon (24 h by default): event skipped (in the log for catch-up), webhook FAILING",
    );
  }
  return "wait";
}
