import type { Logger } from "@hub/kit";
import { Redis, type RedisOptions } from "ioredis";

/** Where feed replicas announce their appends (the number of the entry appended). */
export const WAKEUP_CHANNEL = "hub:feed:appended";

export interface Wakeups {
  /** Tells the other replicas that the log holds entries up to `seq`. */
  announce(seq: number): void;
  stop(): Promise<void>;
}

const OPTIONS: RedisOptions = {
  lazyConnect: true,
  // An append must not wait for a Redis that is away: the announcement is dropped, the other
  // replicas' polls find the entry anyway.
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  connectTimeout: 3_000,
};

/**
 * Wake-ups between feed replicas through Redis (HUB_REDIS_URL): a replica that appended publishes
 * the entry's number, and every replica's tail reads the log at once instead of at its next poll.
 * Redis PUBLISH is at most once, so it only shortens the wait: the log stays the source of truth
 * and the poll stays on (a lost or late message costs one poll interval, never an entry). Reached
 * at start (a wrong address stops the feed with one line); later outages only log.
 */
export async function redisWakeups(
  url: string,
  heard: (seq: number) => void,
  logger: Logger,
): Promise<Wakeups> {
  const publisher = new Redis(url, OPTIONS);
  // Subscribed again by the client after a reconnection (ioredis's autoResubscribe).
  const subscriber = new Redis(url, { ...OPTIONS, enableOfflineQueue: true });
  let warned = false;
  for (const client of [publisher, subscriber])
    client.on("error", (error: unknown) => {
      // Once per outage: a Redis that is away would otherwise log on every retry.
      if (warned) return;
      warned = true;
      logger.warn({ err: error }, "feed wake-ups: Redis unavailable (polling goes on)");
    });
  subscriber.on("ready", () => {
    warned = false;
  });
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
    await subscriber.subscribe(WAKEUP_CHANNEL);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(
      `HUB_REDIS_URL: cannot reach Redis (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  subscriber.on("message", (_channel: string, message: string) => {
    const seq = Number(message);
    if (Number.isSafeInteger(seq) && seq > 0) heard(seq);
  });
  return {
    announce(seq) {
      publisher.publish(WAKEUP_CHANNEL, String(seq)).catch(() => undefined);
    },
    async stop() {
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
