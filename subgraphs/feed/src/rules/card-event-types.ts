/**
 * The kinds of change the status-change feed reports (CONTRACT.md "Values", contract v3): kept in
 * the kit beside the mapping that produces them, which cards uses too (kit/src/events/feed-change.ts).
 */
export { CARD_EVENT_TYPES, type CardEventType } from "@hub/kit";
