import type { Collection } from "mongodb";
import { OBSERVE, POLL } from "./command-tags.js";
import type { OutboxDocument } from "./outbox-document.js";
import type { RelayOptions } from "./relay-settings.js";

/** How often the relay measures the database clock's offset again (LaneLeases, Outbox). */
const CALIBRATE_EVERY_MS = 60_000;

/** The outbox's oldest undelivered event, if any (the relay's lag). */
export function oldestPending(events: Collection<OutboxDocument>) {
  return events.find({}, { comment: OBSERVE }).sort({ enqueuedAt: 1 }).limit(1).next();
}

/**
 * The relay's poll, every `pollMs`: work this process was not woken for (events other replicas
 * committed, lanes whose backoff ended), events and half-done work stopped writers left, the
 * database clock's offset, and the lag, reported while a queue is stuck. Stopped by `stop`.
 */
export function startRelayPoll(
  options: Pick<RelayOptions, "outbox" | "logger">,
  pollMs: number,
  /** Makes sure a destination's lane is being served (LaneService.wake). */
  wake: (destination: string) => void,
): { stop(): void } {
  const { outbox, logger } = options;
  const events = outbox.events;
  let running = true;
  let lastLagReport = 0;

  /** A stuck queue shows in the logs: pending count and lag, at most every 30 s while it lasts. */
  async function reportLag(): Promise<void> {
    if (Date.now() - lastLagReport < 30_000) return;
    const oldest = await oldestPending(events);
    const now = outbox.clock.nowMs();
    if (!oldest || now - oldest.enqueuedAt.getTime() < 10_000) return;
    lastLagReport = Date.now();
    logger.warn(
      {
        pending: await events.countDocuments({}, { comment: OBSERVE }),
        oldestPendingMs: now - oldest.enqueuedAt.getTime(),
        destination: oldest.destination,
        lastError: oldest.lastError,
      },
      "outbox lag: events are waiting for delivery",
    );
  }

  let timer: NodeJS.Timeout | null = null;
  let calibratedAt = -Infinity;
  const stepsUnderWay = new Set<string>();
  // A step that hangs (a sweep waiting on an unreachable database) is left behind after this.
  const stepTimeoutMs = Math.max(2_000, pollMs * 4);
  /**
   * One step of the poll: its failure is logged and does not stop the steps after it, nor does
   * its hanging (the poll moves on; the step is not started again while it is still under way).
   */
  const step = async (name: string, work: () => Promise<void>) => {
    if (stepsUnderWay.has(name)) return;
    stepsUnderWay.add(name);
    const done = work().finally(() => stepsUnderWay.delete(name));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), stepTimeoutMs);
    });
    try {
      if ((await Promise.race([done, late])) === "late")
        logger.warn({ step: name, afterMs: stepTimeoutMs }, "outbox relay poll step hangs");
    } catch (error) {
      logger.warn({ err: error, step: name }, "outbox relay poll step failed");
    } finally {
      clearTimeout(timer);
    }
  };
  const poll = async () => {
    if (performance.now() - calibratedAt > CALIBRATE_EVERY_MS) {
      calibratedAt = performance.now();
      await step("clock", () => outbox.clock.calibrate());
    }
    // Waking first: a step below that hangs (a sweep waiting on the database) does not hold up
    // what other replicas committed.
    await step("wake", async () => {
      for (const destination of await events.distinct("destination", {}, { comment: POLL }))
        wake(String(destination));
    });
    // A writer that stopped between its single-document write and the release of its events.
    await step("stranded", async () => {
      if (await outbox.releaseStranded(outbox.strandedAfterMs))
        logger.warn("released events a writer had left in their documents");
    });
    await step("sweeps", async () => {
      for (const [sweep, completed] of await outbox.runSweeps())
        if (completed > 0)
          logger.warn({ sweep, completed }, "completed work a writer had left half-done");
    });
    await step("lag", reportLag);
    if (running) timer = setTimeout(() => void poll(), pollMs);
  };
  timer = setTimeout(() => void poll(), 0);

  return {
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
  };
}
