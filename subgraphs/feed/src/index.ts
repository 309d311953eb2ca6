export { buildFeedSchema } from "./schema.js";
export { startFeedSubgraph } from "./subgraph.js";
export { feedEnv, loadFeedSettings, type FeedSettings } from "./settings.js";
export { webhookEnv } from "./webhooks/webhook-settings.js";
