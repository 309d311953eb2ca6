import {
  derivedEventId,
  feedChangeOf,
  type NewEvent,
  type PassedOnEvent,
  type ReceivedEvent,
} from "@hub/kit";
import type { Transition } from "../rules/state-machine.js";
import type { CardDocument } from "../store/card-document.js";
import type { CommandMeta } from "./command-meta.js";

/**
 * The card's absolute state at `version`, which every card event carries: receivers keep the
 * newest version they have seen, whatever order the events arrive in.
 */
function cardState(
  card: Pick<CardDocument, "_id" | "personId" | "province" | "issuingBank" | "expiresAt">,
  status: string,
  version: number,
) {
  return {
    cardId: card._id,
    personId: card.personId,
    province: card.province,
    issuingBank: card.issuingBank,
    status,
    expiresAt: card.expiresAt.toISOString(),
    cardVersion: version,
  };
}

/**
 * The event a transition announces: CardStatusChanged when the status changes (to the bank,
 * which mirrors the card, the passwords subgraph and the feed), CardUpdated when it stays as it
 * was (only the status-change feed needs to hear of it).
 */
export function statusEvent(
  doc: CardDocument,
  transition: Transition,
  meta: CommandMeta,
): NewEvent | null {
  const change = transition.change;
  if (!change) return null;
  const payload = {
    ...cardState(doc, change.toStatus, doc.version + 1),
    change: change.type,
    fromStatus: change.fromStatus,
  };
  const envelope = {
    // Caused by another subgraph's event: its id follows from that event's, so the command made
    // again (its first write rolled back by a failover, the event delivered again) announces the
    // change under the same id, which the outbox stores once and the feed logs once.
    ...(meta.eventId ? { id: derivedEventId(meta.eventId, "card status") } : {}),
    actor: meta.caller.sub,
    channel: meta.caller.channel,
    occurredAt: meta.now,
  };
  const statusKept = change.fromStatus === change.toStatus && change.type !== "REPLACED";
  return statusKept
    ? { type: "CardUpdated", payload, ...envelope }
    : { type: "CardStatusChanged", payload, ...envelope };
}

/** CardIssued: the bank opens the account, the passwords subgraph and the feed know the card. */
export function issuedEvent(card: CardDocument, meta: CommandMeta): NewEvent {
  return {
    type: "CardIssued",
    payload: {
      ...cardState(card, card.status, card.version),
      replacesId: card.replacesId,
    },
    actor: meta.caller.sub,
    channel: meta.caller.channel,
    occurredAt: meta.now,
  };
}

/** Events of other subgraphs about a card that the feed hears of through cards. */
export type FeedReported = ReceivedEvent<PassedOnEvent["type"]>;

/**
 * ForwardedToFeed for a received event, or null when the feed reports no change of its own for
 * it (the feed's own rule, `feedChangeOf`, decides). It carries the event's type and payload as
 * received, with the card's holder (which cards always knows, where an older producer may not
 * have), so the feed maps it as it maps any event; its id is derived from the received event's,
 * so passing the same event on again makes the same id, which the feed logs once.
 */
export function forwardedEvent(
  card: Pick<CardDocument, "personId">,
  received: FeedReported,
): NewEvent<"ForwardedToFeed"> | null {
  // Type and payload travel together (the inbox checked the payload against this type); the
  // compiler cannot pair them through the union, PassedOnEvent names the pairs.
  const source = {
    type: received.type,
    payload: { ...received.payload, personId: card.personId },
  } as PassedOnEvent;
  if (!feedChangeOf(source)) return null;
  return {
    type: "ForwardedToFeed",
    id: derivedEventId(received.id, "ForwardedToFeed"),
    payload: { sourceId: received.id, source },
    actor: received.actor,
    channel: received.channel,
    occurredAt: new Date(received.occurredAt),
  };
}
