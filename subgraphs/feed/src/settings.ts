import { readSettings } from "@hub/kit";
import { z } from "zod";
import { loadWebhookSettings, type WebhookSettings } from "./webhooks/webhook-settings.js";

/** Default of HUB_EVENT_RETENTION_DAYS: the contract's "cursors resume for at least 7 days". */
export const DEFAULT_EVENT_RETENTION_DAYS = 7;

/**
 * Default of HUB_FEED_BUFFER_ENTRIES: 20 s of history at 50 events/s, about 1 MB of memory.
 */
export const DEFAULT_BUFFER_ENTRIES = 1_000;

export const feedEnv = z.object({
  /** How long the log keeps an entry; cursors older than this are CURSOR_EXPIRED. */
  HUB_EVENT_RETENTION_DAYS: z.coerce
    .number()
    .positive()
    .max(3_650)
    .default(DEFAULT_EVENT_RETENTION_DAYS),
  /**
   * How often a feed replica looks for entries other replicas appended while someone listens
   * (its own appends wake its listeners at once). The contract's 1 s from commit to subscriber
   * bounds it.
   */
  HUB_FEED_POLL_MS: z.coerce.number().int().min(20).max(1_000).default(150),
  /**
   * Recent log entries each feed process keeps in memory for its subscriptions to read (store/
   * log-tail.ts); a stream further behind reads the database until it catches up.
   */
  HUB_FEED_BUFFER_ENTRIES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(DEFAULT_BUFFER_ENTRIES),
  /**
   * A Redis the feed replicas share: each announces its appends there, so the others read them at
   * once rather than at their next poll (store/redis-wakeups.ts). Optional: the poll stays.
   */
  HUB_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
});

export interface FeedSettings {
  retentionMs: number;
  pollMs: number;
  /** HUB_FEED_BUFFER_ENTRIES (DEFAULT_BUFFER_ENTRIES when absent). */
  bufferEntries?: number;
  /** HUB_REDIS_URL: wake-ups between replicas; polling alone when absent. */
  redisUrl?: string;
  webhooks: WebhookSettings;
}

/** Reads and validates the feed's own settings once, at start; the message names every bad one. */
export function loadFeedSettings(env: NodeJS.ProcessEnv = process.env): FeedSettings {
  const settings = readSettings(feedEnv, env);
  return {
    retentionMs: settings.HUB_EVENT_RETENTION_DAYS * 86_400_000,
    pollMs: settings.HUB_FEED_POLL_MS,
    bufferEntries: settings.HUB_FEED_BUFFER_ENTRIES,
    redisUrl: settings.HUB_REDIS_URL,
    webhooks: loadWebhookSettings(env),
  };
}
