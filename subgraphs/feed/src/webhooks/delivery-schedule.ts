/**
 * When a webhook delivery is tried again, and what an attempt's outcome means for the delivery
 * and its webhook (contract v3). Pure: the caller passes the time and the randomness.
 *
 * A FAILING webhook (a delivery ran out of its 24 h): the failed event is skipped (the webhook's
 * position moves past it; the channel catches up through `cardEventLog`, where it stays for the
 * log's retention) and delivery goes on with the next events, at the capped backoff: each attempt
 * of a FAILING webhook, the first of an event included, waits between half and all of the cap
 * (1 h), and each event still has its own 24 h. A receiver that is down for days is thus asked
 * about once an hour and loses one event a day, not one per hour; the first 2xx makes the webhook
 * ACTIVE again and the backlog flows at once. Only a 410 (or the channel) disables it.
 */

export interface ScheduleOptions {
  /** The first retry's nominal wait; each further retry doubles it. */
  baseMs: number;
  /** No wait is longer (and a FAILING webhook waits about this long each time). */
  capMs: number;
  /** After this long from a delivery's first attempt, it is FAILED and the webhook FAILING. */
  horizonMs: number;
  /** An answer later than this counts as none. */
  timeoutMs: number;
  /** In [0, 1): the jitter's source. */
  random: () => number;
}

/** The contract's schedule: 1 s doubling to 1 h, for 24 h; 15 s to answer. */
export const DEFAULT_SCHEDULE: ScheduleOptions = {
  baseMs: 1_000,
  capMs: 3_600_000,
  horizonMs: 86_400_000,
  timeoutMs: 15_000,
  random: Math.random,
};

/** What an attempt came to, as the deliverer saw it. */
export type AttemptResult =
  | { kind: "response"; status: number; retryAfter: string | null; elapsedMs: number }
  | { kind: "timeout" }
  /** The connection failed (refused, reset, TLS). */
  | { kind: "error"; message: string }
  /** The target policy refused the address the host resolves to now. */
  | { kind: "refused"; message: string };

export interface DeliveryState {
  /** Attempts before this one. */
  attempts: number;
  firstAttemptAt: Date;
  /** The webhook is FAILING: retries wait the capped backoff from the first. */
  webhookFailing: boolean;
}

export type Decision =
  /** Delivered: the webhook moves on (and is ACTIVE again if it was FAILING). */
  | { delivery: "DELIVERED"; webhook: "ACTIVE" }
  /** Tried again at `nextAttemptAt`, `delayMs` from now. */
  | { delivery: "RETRYING"; nextAttemptAt: Date; delayMs: number }
  /** Out of time: the event is skipped, the webhook FAILING; its next attempt waits `delayMs`. */
  | { delivery: "FAILED"; webhook: "FAILING"; delayMs: number }
  /** The receiver answered 410 Gone: the webhook is disabled. */
  | { delivery: "FAILED"; webhook: "DISABLED" };

/** Statuses whose Retry-After is honoured (Standard Webhooks: "slow down"). */
const SLOW_DOWN = new Set([429, 502, 503, 504]);

/**
 * The wait before the retry that follows the `failed`-th failed attempt (1 for the first):
 * between half and all of min(cap, base·2^(failed−1)) ("equal jitter"), so replicas and webhooks
 * retrying one receiver do not come back in step, and each wait is still longer than the one
 * before it until the cap. A FAILING webhook waits the capped amount from the start.
 */
export function backoffMs(failed: number, failing: boolean, options: ScheduleOptions): number {
  const exponent = Math.min(Math.max(failed - 1, 0), 52);
  const nominal = failing ? options.capMs : Math.min(options.capMs, options.baseMs * 2 ** exponent);
  return nominal / 2 + (options.random() * nominal) / 2;
}

/**
 * A `Retry-After` header's wait in milliseconds (delay-seconds or an HTTP date), or null when it
 * is absent or unreadable.
 */
export function retryAfterMs(header: string | null, now: Date): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  // HTTP dates name their weekday and zone; a bare number or word is not one.
  if (!/^[A-Za-z]{3}, /.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/** What the attempt made at `now` means: the delivery's status and the webhook's, and when next. */
export function decideAfterAttempt(
  result: AttemptResult,
  state: DeliveryState,
  now: Date,
  options: ScheduleOptions = DEFAULT_SCHEDULE,
): Decision {
  const answered = result.kind === "response" && result.elapsedMs <= options.timeoutMs;
  const status = answered ? result.status : null;
  if (status !== null && status >= 200 && status < 300)
    return { delivery: "DELIVERED", webhook: "ACTIVE" };
  if (status === 410) return { delivery: "FAILED", webhook: "DISABLED" };

  const failed = state.attempts + 1;
  let delayMs = backoffMs(failed, state.webhookFailing, options);
  if (status !== null && SLOW_DOWN.has(status) && result.kind === "response") {
    const asked = retryAfterMs(result.retryAfter, now);
    // Honoured, within bounds: never sooner than the first retry, never later than the cap.
    if (asked !== null) delayMs = Math.min(options.capMs, Math.max(options.baseMs, asked));
  }
  const horizonEnd = state.firstAttemptAt.getTime() + options.horizonMs;
  if (now.getTime() >= horizonEnd)
    return {
      delivery: "FAILED",
      webhook: "FAILING",
      delayMs: backoffMs(failed, true, options),
    };
  // The last retry falls on the horizon itself, not after it: a delivery gets its full 24 h and
  // fails as soon as they are over.
  const nextAttemptAt = new Date(Math.min(now.getTime() + delayMs, horizonEnd));
  return { delivery: "RETRYING", nextAttemptAt, delayMs: nextAttemptAt.getTime() - now.getTime() };
}
