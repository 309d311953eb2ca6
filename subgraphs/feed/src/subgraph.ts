import {
  Outbox,
  prepareTransactions,
  startHubSubgraph,
  type RunningServer,
  type SubgraphDeps,
} from "@hub/kit";
import { FeedReader } from "./commands/feed-reader.js";
import { startLogPruning } from "./commands/prune-log.js";
import { feedEventHandlers } from "./commands/record-event.js";
import type { FeedContext } from "./context.js";
import { feedMetrics } from "./feed-metrics.js";
import { buildFeedSchema } from "./schema.js";
import { DEFAULT_BUFFER_ENTRIES, loadFeedSettings, type FeedSettings } from "./settings.js";
import { sseEndpoint } from "./sse-endpoint.js";
import { CardEventLog } from "./store/card-event-log.js";
import { LogTail } from "./store/log-tail.js";
import { redisWakeups } from "./store/redis-wakeups.js";
import { cardEventSource } from "./webhooks/card-event-source.js";
import { SecretCipher } from "./webhooks/secrets.js";
import { TargetPolicy } from "./webhooks/target-policy.js";
import { startWebhookDeliverer } from "./webhooks/webhook-deliverer.js";
import { WebhookService } from "./webhooks/webhook-service.js";
import { WebhookStore } from "./webhooks/webhook-store.js";

/**
 * The status-change feed (contract v3): receives the other subgraphs' events through the relay,
 * keeps them as an append-only log in its own database, and serves it as `cardEventLog` and as
 * the `cardEvents` subscription (GraphQL over SSE, beside /graphql).
 */
export async function startFeedSubgraph(
  deps: SubgraphDeps,
  settings: FeedSettings = loadFeedSettings(),
): Promise<RunningServer> {
  // The feed sends no events; its outbox is the kit's wiring (and empty), and its clock the
  // database's (calibrated by the relay's poll): entries are dated, cursors checked and the log
  // pruned by one time whichever replica does it, not by each host's own clock.
  const outbox = new Outbox(deps.db, "feed");
  const clock = deps.clock ?? (() => outbox.clock.now());
  const log = new CardEventLog(deps.db);
  // Appends run in transactions (counter and entry together).
  await Promise.all([log.ensureIndexes(), prepareTransactions(deps.db)]);
  // One reader of the log for the whole process, which every subscription reads from.
  const tail = new LogTail({
    source: log,
    pollMs: settings.pollMs,
    capacity: settings.bufferEntries ?? DEFAULT_BUFFER_ENTRIES,
    onError: (error) => deps.logger.warn({ err: error }, "feed poll failed"),
  });
  // Optional: replicas wake each other's tails through Redis; the poll stays either way.
  const wakeups = settings.redisUrl
    ? await redisWakeups(settings.redisUrl, (seq) => tail.heard(seq), deps.logger)
    : null;
  if (wakeups) tail.announce = (seq) => wakeups.announce(seq);
  const reader = new FeedReader(log, tail, settings.retentionMs, clock);
  const pruning = startLogPruning(log, settings.retentionMs, clock, deps.logger);
  // Webhooks: channels that cannot hold a stream are POSTed each new entry (Standard Webhooks).
  const webhookStore = new WebhookStore(deps.db);
  await webhookStore.ensureIndexes();
  const cipher = new SecretCipher(settings.webhooks.key);
  const policy = new TargetPolicy({
    production: settings.webhooks.production,
    allowedHosts: settings.webhooks.allowedHosts,
  });
  const source = cardEventSource(log);
  const webhooks = new WebhookService(webhookStore, cipher, policy, source);
  const deliverer = startWebhookDeliverer({
    store: webhookStore,
    source,
    cipher,
    policy,
    logger: deps.logger,
    retentionMs: settings.retentionMs,
  });
  const schema = await buildFeedSchema();
  const server = await startHubSubgraph<FeedContext, "feed">({
    name: "feed",
    deps,
    schema,
    outbox,
    isReady: () => log.ping(),
    handlers: feedEventHandlers(log, tail, clock, () => deliverer.notify()),
    context: () => ({ reader, webhooks }),
    subscriptions: sseEndpoint(schema),
    metrics: feedMetrics({
      tail,
      log,
      webhooks: deliverer,
      onError: (error) => deps.logger.warn({ err: error }, "feed metrics incomplete"),
    }),
  });
  return {
    url: server.url,
    async stop() {
      pruning.stop();
      await deliverer.stop();
      // The server ends its open streams first; then nobody waits on the tail.
      await server.stop();
      tail.stop();
      await wakeups?.stop();
    },
  };
}
