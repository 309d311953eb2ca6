import type { CardEventLog } from "./store/card-event-log.js";
import type { LogTail } from "./store/log-tail.js";
import type { WebhookDelivererStats } from "./webhooks/webhook-deliverer.js";

export interface FeedMetricsSources {
  tail: LogTail;
  log: Pick<CardEventLog, "newestSeq">;
  /**
   * The webhook deliverer's figures (webhooks/webhook-deliverer.ts `stats()`): the age of the
   * oldest pending delivery. Without it the webhook metrics are left out.
   */
  webhooks?: { stats(): Promise<WebhookDelivererStats> };
  onError?: (error: unknown) => void;
}

interface Sample {
  name: string;
  help: string;
  type: "gauge" | "counter";
  value: number;
}

/** Prometheus's text exposition format (0.0.4): HELP, TYPE and one unlabelled sample each. */
export function exposition(samples: readonly Sample[]): string {
  return samples
    .map((s) => `# HELP ${s.name} ${s.help}\n# TYPE ${s.name} ${s.type}\n${s.name} ${s.value}\n`)
    .join("");
}

/**
 * The feed process's own figures, served at its GET /metrics. Per process, because streams are
 * held by one replica each: a scrape through a load balancer would see a random replica's, so
 * Prometheus scrapes every feed replica as it scrapes every gateway. Lag counts log entries: the
 * log's newest entry (read at the scrape) minus the last entry each open subscription was handed
 * or skipped, so it includes the tail's own delay in reading other replicas' appends.
 */
export function feedMetrics(sources: FeedMetricsSources): () => Promise<string> {
  return async () => {
    const logNewest = await sources.log.newestSeq().catch((error: unknown) => {
      sources.onError?.(error);
      return null;
    });
    const tail = sources.tail.stats(logNewest ?? undefined);
    const samples: Sample[] = [
      {
        name: "hub_feed_subscriptions_open",
        help: "Subscriptions (cardEvents streams) this feed process is serving.",
        type: "gauge",
        value: tail.open,
      },
      {
        name: "hub_feed_subscriptions_catching_up",
        help: "Open subscriptions reading entries older than the in-memory buffer from the database.",
        type: "gauge",
        value: tail.catchingUp,
      },
      {
        name: "hub_feed_subscription_max_lag_entries",
        help: "Largest lag of an open subscription: the log's newest entry number minus the last one the subscription was sent or skipped.",
        type: "gauge",
        value: tail.maxLag,
      },
      {
        name: "hub_feed_subscriptions_opened_total",
        help: "Subscriptions opened by this feed process since it started.",
        type: "counter",
        value: tail.opened,
      },
      {
        name: "hub_feed_buffer_entries",
        help: "Recent log entries held in memory for the subscriptions (HUB_FEED_BUFFER_ENTRIES at most).",
        type: "gauge",
        value: tail.buffered,
      },
    ];
    if (logNewest !== null)
      samples.push(
        {
          name: "hub_feed_log_newest_seq",
          help: "Number of the newest entry in the status-change log.",
          type: "gauge",
          value: logNewest,
        },
        {
          name: "hub_feed_tail_lag_entries",
          help: "Log entries this process has not read yet (other replicas' appends wait for its poll).",
          type: "gauge",
          value: Math.max(0, logNewest - tail.newest),
        },
      );
    const webhooks = sources.webhooks
      ? await sources.webhooks.stats().catch((error: unknown) => {
          sources.onError?.(error);
          return null;
        })
      : null;
    if (webhooks)
      samples.push(
        {
          name: "hub_webhook_delivery_lag_seconds",
          help: "Age of the oldest log entry a webhook is still waiting to be delivered (0 when none).",
          type: "gauge",
          value: webhooks.oldestPendingMs / 1000,
        },
        {
          name: "hub_webhooks_pending",
          help: "Webhooks with at least one log entry waiting for delivery.",
          type: "gauge",
          value: webhooks.pending,
        },
        {
          name: "hub_webhooks_failing",
          help: "Webhooks in FAILING (deliveries retried past their horizon).",
          type: "gauge",
          value: webhooks.failing,
        },
      );
    return exposition(samples);
  };
}
