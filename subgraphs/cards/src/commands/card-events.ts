import type { NewEvent } from "@hub/kit";
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
  const envelope = { actor: meta.caller.sub, channel: meta.caller.channel, occurredAt: meta.now };
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
