import { setTimeout as delay } from "node:timers/promises";
import { HubError } from "../errors.js";

/** Majority reads before giving up; the wait before the second (doubling: 25, 50, 100, 200 ms). */
const MAJORITY_READS = 5;
const MAJORITY_READ_BACKOFF_MS = 25;

export interface MajorityReadOptions {
  /** Reads before giving up (MAJORITY_READS). */
  reads?: number;
  /** The wait before the second read, doubled before each one after (MAJORITY_READ_BACKOFF_MS). */
  backoffMs?: number;
}

export interface MajorityReadOrNoneOptions extends MajorityReadOptions {
  /**
   * Asked once, when the first read finds nothing: true when there is nothing to wait for (not
   * even the primary has it), and untilMajorityShows answers null at once.
   */
  absent: () => Promise<boolean>;
}

/**
 * As below, with `absent`: null at once when, after a first read that found nothing, `absent`
 * says that nothing will show.
 */
export function untilMajorityShows<T>(
  read: () => Promise<T | null | undefined>,
  message: string,
  options: MajorityReadOrNoneOptions,
): Promise<T | null>;
/**
 * What `read` finds (a read with `readConcern: { level: "majority" }`), retried with a doubling
 * wait until it finds something; after `reads` reads that found nothing, SERVICE_UNAVAILABLE
 * with `message` (retryable). A write another request has just made (one a duplicate key or a
 * local read showed) may be on the primary only: a failover would roll it back, and an answer
 * from it would report something that then does not exist. One a majority does not hold after a
 * few reads is being written or rolled back: the caller retries.
 */
export function untilMajorityShows<T>(
  read: () => Promise<T | null | undefined>,
  message: string,
  options?: MajorityReadOptions,
): Promise<T>;
export async function untilMajorityShows<T>(
  read: () => Promise<T | null | undefined>,
  message: string,
  options: MajorityReadOptions & { absent?: () => Promise<boolean> } = {},
): Promise<T | null> {
  const reads = options.reads ?? MAJORITY_READS;
  const backoffMs = options.backoffMs ?? MAJORITY_READ_BACKOFF_MS;
  for (let attempt = 0; attempt < reads; attempt++) {
    if (attempt > 0) await delay(backoffMs * 2 ** (attempt - 1));
    const shown = await read();
    if (shown !== null && shown !== undefined) return shown;
    if (attempt === 0 && options.absent && (await options.absent())) return null;
  }
  throw new HubError("SERVICE_UNAVAILABLE", message);
}
