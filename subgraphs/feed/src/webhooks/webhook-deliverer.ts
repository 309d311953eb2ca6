import { randomUUID } from "node:crypto";
import { DatabaseClock, LaneLeases, type LaneDocument, type Logger } from "@hub/kit";
import { outsideTraces } from "@hub/kit/tracing";
import type { CardEventSource, LogEntry } from "./card-event-source.js";
import { DEFAULT_SCHEDULE, type ScheduleOptions } from "./delivery-schedule.js";
import type { SecretCipher } from "./secrets.js";
import type { TargetPolicy } from "./target-policy.js";
import { deliverEntry, type EntryDeliverer } from "./entry-delivery.js";
import type { WebhookDocument, WebhookStore } from "./webhook-store.js";

export interface WebhookDelivererOptions {
  store: WebhookStore;
  source: CardEventSource;
  cipher: SecretCipher;
  policy: TargetPolicy;
  logger: Logger;
  /** Times written by one replica and compared by another (backoffs, the 24 h horizon). */
  clock?: DatabaseClock;
  /** Shorter backoff, horizon or timeout in tests; the contract's by default. */
  schedule?: Partial<ScheduleOptions>;
  /** How often it looks for work it was not woken for (other replicas' appends, retries). */
  pollMs?: number;
  /** How long a silent replica keeps a webhook's lane; more than a delivery's timeout. */
  leaseMs?: number;
  /** Log entries read at once per webhook. */
  batchSize?: number;
  /** Finished deliveries are kept this long (the log's retention, HUB_EVENT_RETENTION_DAYS). */
  retentionMs?: number;
  /** This replica's name on the lanes it holds. */
  instance?: string;
}

export interface WebhookDelivererStats {
  /** Webhooks that deliver (ACTIVE or FAILING). */
  webhooks: number;
  failing: number;
  /** Webhooks with at least one log entry waiting for them. */
  pending: number;
  /** Age of the oldest log entry a webhook is still waiting to deliver (0 when none): the lag. */
  oldestPendingMs: number;
}

export interface WebhookDeliverer {
  /** The log grew (the feed appended): look for work now rather than at the next poll. */
  notify(): void;
  stats(): Promise<WebhookDelivererStats>;
  /** Stops delivering; an attempt in flight is cut off (and made again later, by any replica). */
  stop(): Promise<void>;
}

/** The lanes' collection: one lane per webhook, shared by the feed's replicas. */
export const WEBHOOK_LANES = "webhook_lanes";

const CALIBRATE_EVERY_MS = 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;
const DEFAULT_RETENTION_MS = 7 * 86_400_000;

/** This replica's view of one webhook's lane. */
interface LocalLane {
  id: string;
  serving: Promise<void> | null;
  again: boolean;
  /** Wakes the lane when its backoff ends (the poll would come later). */
  retry: NodeJS.Timeout | null;
}

const wants = (webhook: WebhookDocument, entry: LogEntry) =>
  webhook.types === null || webhook.types.includes(entry.type);

/**
 * Delivers the log to webhooks (contract v3). Per webhook: in log order (so each card's events in
 * the order they were committed), one delivery at a time, by the one replica that holds the
 * webhook's lane (LaneLeases, `webhook_lanes`). An event is retried on the schedule of
 * delivery-schedule.ts until it is delivered or fails; only then does the webhook's position move
 * past it, so a replica that dies mid-delivery leaves the event to be sent again (the receiver
 * deduplicates on `webhook-id`). Woken by `notify` when the feed appends, polling otherwise.
 */
export function startWebhookDeliverer(options: WebhookDelivererOptions): WebhookDeliverer {
  const { store, source, cipher, policy, logger } = options;
  const schedule: ScheduleOptions = { ...DEFAULT_SCHEDULE, ...options.schedule };
  const pollMs = options.pollMs ?? 1_000;
  const leaseMs = Math.max(options.leaseMs ?? 30_000, 100);
  const batchSize = options.batchSize ?? 50;
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const clock = options.clock ?? DatabaseClock.of(store.db);
  const leases = new LaneLeases(
    store.db.collection<LaneDocument>(WEBHOOK_LANES),
    options.instance ?? randomUUID(),
    leaseMs,
    undefined,
    clock,
  );
  const local = new Map<string, LocalLane>();
  // Cuts off the attempts in flight when the deliverer stops.
  const stopping = new AbortController();
  let running = true;

  /** What delivering one entry needs (entry-delivery.ts). */
  const deliverer: EntryDeliverer = {
    store,
    clock,
    leases,
    schedule,
    policy,
    cipher,
    logger,
    signal: stopping.signal,
    running: () => running,
    retryAfter: (id, delayMs) => retryAfter(laneOf(id), delayMs),
  };

  const laneOf = (id: string): LocalLane => {
    let lane = local.get(id);
    if (!lane) {
      lane = { id, serving: null, again: false, retry: null };
      local.set(id, lane);
    }
    return lane;
  };

  /** Delivers what the webhook has not handled yet while this replica holds its lane. */
  async function drain(id: string): Promise<void> {
    const lease = await leases.claim(id, false);
    if (typeof lease === "string") return;
    const backedOff = { value: lease.attempts > 0 };
    try {
      while (running) {
        let webhook = await store.byId(id);
        if (!webhook || webhook.status === "DISABLED") return;
        let stored = webhook.position;
        // Read first: every entry up to it is committed, so what the filter skipped up to it
        // never comes later (CardEventSource.newest).
        const through = await source.newest();
        const entries = await source.after(webhook.position, batchSize, webhook.types, through);
        let handled = webhook.position;
        for (const entry of entries) {
          if (!running) return;
          if (!wants(webhook, entry)) {
            handled = entry.seq;
            continue;
          }
          // Read again before each delivery: a channel that disabled the webhook or rotated its
          // secret meanwhile is obeyed from the next event on, not from the next batch.
          if (entry !== entries[0]) {
            webhook = await store.byId(id);
            if (!webhook || webhook.status === "DISABLED") return;
          }
          const outcome = await deliverEntry(deliverer, lease, webhook, entry, backedOff);
          if (outcome !== "moved-on") {
            // Entries skipped before this one are handled all the same.
            if (outcome === "wait" && handled > stored)
              await store.advance(id, handled, clock.now());
            return;
          }
          handled = stored = entry.seq;
        }
        const reached = entries.length < batchSize ? Math.max(handled, through) : handled;
        if (reached > stored) await store.advance(id, reached, clock.now());
        if (entries.length < batchSize) return;
      }
    } finally {
      await leases.release(lease);
    }
  }

  async function serve(lane: LocalLane): Promise<void> {
    while (lane.again && running) {
      lane.again = false;
      try {
        await drain(lane.id);
      } catch (error) {
        logger.warn({ err: error, webhookId: lane.id }, "webhook delivery failed unexpectedly");
      }
    }
  }

  function wake(id: string): void {
    const lane = laneOf(id);
    lane.again = true;
    if (lane.serving || !running) return;
    lane.serving = serve(lane).finally(() => {
      lane.serving = null;
      if (lane.again && running) wake(id);
    });
  }

  /** Tries the lane again when its backoff ends (a little after: the claim compares times). */
  function retryAfter(lane: LocalLane, delayMs: number): void {
    if (lane.retry) clearTimeout(lane.retry);
    lane.retry = setTimeout(
      () => {
        lane.retry = null;
        wake(lane.id);
      },
      Math.max(0, delayMs) + 20,
    );
    lane.retry.unref();
  }

  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let pollAgain = false;
  let calibratedAt = -Infinity;
  let prunedAt = -Infinity;

  /** Wakes every webhook the log has grown past, keeps the clock calibrated and deliveries pruned. */
  async function poll(): Promise<void> {
    const step = async (name: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        logger.warn({ err: error, step: name }, "webhook deliverer poll step failed");
      }
    };
    if (performance.now() - calibratedAt > CALIBRATE_EVERY_MS) {
      calibratedAt = performance.now();
      await step("clock", () => clock.calibrate());
    }
    if (performance.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = performance.now();
      await step("prune", () => store.prune(new Date(clock.nowMs() - retentionMs)));
    }
    await step("wake", async () => {
      // The webhooks first: with none registered (most hubs) an append costs this one small read,
      // not also the log's newest number (which takes the log's turn on the embedded server).
      const live = await store.live();
      if (live.length === 0) return;
      const newest = await source.newest();
      for (const webhook of live) if (webhook.position < newest) wake(webhook._id);
    });
  }

  function runPoll(): void {
    if (!running) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    if (timer) clearTimeout(timer);
    timer = null;
    polling = poll().finally(() => {
      polling = null;
      if (!running) return;
      if (pollAgain) {
        pollAgain = false;
        runPoll();
      } else {
        timer = setTimeout(runPoll, pollMs);
        timer.unref();
      }
    });
  }
  runPoll();

  return {
    // Told of an append inside the request or event that made it: its polls are no part of it.
    notify: () => outsideTraces(runPoll),
    async stats() {
      const webhooks = await store.live();
      const now = clock.nowMs();
      let pending = 0;
      let oldestPendingMs = 0;
      for (const webhook of webhooks) {
        const [next] = await source.after(webhook.position, 1, webhook.types);
        if (!next) continue;
        pending += 1;
        oldestPendingMs = Math.max(oldestPendingMs, now - next.recordedAt.getTime());
      }
      return {
        webhooks: webhooks.length,
        failing: webhooks.filter((w) => w.status === "FAILING").length,
        pending,
        oldestPendingMs,
      };
    },
    async stop() {
      running = false;
      stopping.abort();
      if (timer) clearTimeout(timer);
      for (const lane of local.values()) if (lane.retry) clearTimeout(lane.retry);
      await polling;
      await Promise.all([...local.values()].map((lane) => lane.serving));
    },
  };
}
