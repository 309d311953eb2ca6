import type { Clock, Logger } from "@hub/kit";
import type { CardEventLog } from "../store/card-event-log.js";

export interface LogPruning {
  /** Removes what is past the retention now; answers how many entries went. */
  prune(): Promise<number>;
  stop(): void;
}

/**
 * Keeps the log to its retention (HUB_EVENT_RETENTION_DAYS), read on the feed's clock so tests
 * can move it. A periodic delete rather than a TTL index: the embedded server never expires
 * documents, and every write slows as a collection grows there.
 */
export function startLogPruning(
  log: CardEventLog,
  retentionMs: number,
  clock: Clock,
  logger: Logger,
  everyMs = 60_000,
): LogPruning {
  const prune = () => log.prune(new Date(clock().getTime() - retentionMs));
  const timer = setInterval(() => {
    prune().catch((error: unknown) => logger.warn({ err: error }, "feed log pruning failed"));
  }, everyMs);
  timer.unref();
  return { prune, stop: () => clearInterval(timer) };
}
