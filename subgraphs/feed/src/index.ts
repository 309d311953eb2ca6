export { buildFeedSchema } from "./schema.js";
export { startFeedSubgraph } from "./subgraph.js";
export { feedEnv, loadFeedSettings, type FeedSettings } from "./settings.js";
export { webhookEnv } from "./webhooks/webhook-settings.js";
// The log on its own: bench/src/feed-log.ts measures an append's cost in each layout.
export { CardEventLog, type LogLayout, type NewLogEntry } from "./store/card-event-log.js";
