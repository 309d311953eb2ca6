import { HubError } from "@hub/kit";
import type { LogEntry } from "./card-event-source.js";
import type { AttemptResult, Decision } from "./delivery-schedule.js";
import { postToTarget } from "./pinned-post.js";
import { signingSecrets, type SecretCipher } from "./secrets.js";
import { signedHeaders, webhookBody } from "./signer.js";
import type { TargetPolicy } from "./target-policy.js";
import type { WebhookDocument } from "./webhook-store.js";

/** What an attempt needs besides the webhook and the entry. */
export interface AttemptContext {
  policy: TargetPolicy;
  cipher: SecretCipher;
  /** Cuts the attempt off (the deliverer stops). */
  signal: AbortSignal;
}

/**
 * One delivery attempt of `entry` to `webhook` within `timeoutMs`: check the target again, sign,
 * post to the checked addresses.
 */
export async function attemptDelivery(
  { policy, cipher, signal }: AttemptContext,
  webhook: WebhookDocument,
  entry: LogEntry,
  now: Date,
  timeoutMs: number,
): Promise<AttemptResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    // Resolution counts towards the 15 s: a name that takes long to resolve is a slow receiver.
    const target = await Promise.race([policy.check(webhook.url), timeout]);
    if (target === "timeout") return { kind: "timeout" };
    const body = webhookBody(entry);
    const headers = signedHeaders(entry.eventId, now, body, signingSecrets(webhook, now, cipher));
    const left = Math.max(1, timeoutMs - (performance.now() - started));
    const outcome = await postToTarget(target, {
      headers: { ...headers },
      body,
      timeoutMs: left,
      signal,
    });
    if (outcome.kind === "response")
      return {
        kind: "response",
        status: outcome.status,
        retryAfter: outcome.retryAfter,
        elapsedMs: performance.now() - started,
      };
    return outcome.kind === "timeout"
      ? { kind: "timeout" }
      : { kind: "error", message: outcome.message };
  } catch (error) {
    // The policy refuses the address the host resolves to now (it did not at registration).
    if (error instanceof HubError) return { kind: "refused", message: error.message };
    return { kind: "error", message: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** The delivery's `lastError` after an attempt: null once delivered. */
export function failureOf(
  result: AttemptResult,
  delivery: Decision["delivery"],
  timeoutMs: number,
): string | null {
  if (result.kind === "response") return delivery === "DELIVERED" ? null : `HTTP ${result.status}`;
  return result.kind === "timeout"
    ? `no answer within ${Math.round(timeoutMs)} ms`
    : result.message;
}
