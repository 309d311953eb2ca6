import { buildFederatedSchema } from "@hub/kit";
import type { GraphQLSchema } from "graphql";
import { Card, CardEvent, CardEventPage } from "./model/card-event.js";
import { CardEventResolver } from "./resolvers/card-event.resolver.js";
import { WebhookResolver } from "./resolvers/webhook-resolver.js";
import { feedReferences } from "./resolvers/references.js";

/**
 * TypeGraphQL asks for a PubSub wherever a schema has subscriptions, though `cardEvents` brings
 * its own stream (`subscribe`, tailing the log) and publishes nothing: topics are never used.
 */
const noTopics = {
  publish(): void {
    throw new Error("the feed publishes no topics: its stream is the log");
  },
  subscribe(): AsyncIterable<unknown> {
    throw new Error("the feed subscribes to no topics: its stream is the log");
  },
};

export function buildFeedSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [CardEventResolver, WebhookResolver],
      orphanedTypes: [Card, CardEvent, CardEventPage],
      pubSub: noTopics,
    },
    feedReferences,
  );
}
