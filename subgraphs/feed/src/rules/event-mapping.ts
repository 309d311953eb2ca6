/**
 * Which event becomes which log entry: one pure rule in the kit (kit/src/events/feed-change.ts),
 * because cards decides with it which of the events it receives about a card to pass on to the
 * feed (docs/feed.md "Per-card order"). Tested case by case in event-mapping.test.ts.
 */
export { feedChangeOf, type FeedChange, type FeedSource } from "@hub/kit";
