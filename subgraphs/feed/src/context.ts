import type { HubContext } from "@hub/kit";
import type { FeedReader } from "./commands/feed-reader.js";
import type { WebhooksInContext } from "./webhooks/webhook-service.js";

export interface FeedContext extends HubContext, WebhooksInContext {
  reader: FeedReader;
}
