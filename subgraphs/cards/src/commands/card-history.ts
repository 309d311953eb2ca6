import type { ClientSession } from "mongodb";
import type { Transition } from "../rules/state-machine.js";
import {
  HISTORY_ARCHIVED_AT_ONCE,
  HISTORY_KEPT,
  type CardDocument,
  type CardEventDocument,
} from "../store/card-document.js";
import type { CardRepository } from "../store/card-repository.js";
import type { CommandMeta } from "./command-meta.js";

/** A history entry waiting for its place (`seq`) in the card's history. */
export type PendingEntry = (seq: number) => CardEventDocument;

/** The history entry a command records on the card, numbered once its place is known. */
export function historyEntry(
  doc: Pick<CardDocument, "_id">,
  meta: CommandMeta,
  type: CardEventDocument["type"],
  fromStatus: CardEventDocument["fromStatus"],
  toStatus: CardEventDocument["toStatus"],
): PendingEntry {
  return (seq) => ({
    // Deterministic: archiving an entry twice (a lost race, retried) stores it once.
    _id: `${doc._id}:${seq}`,
    cardId: doc._id,
    at: meta.now,
    seq,
    type,
    channel: meta.caller.channel,
    fromStatus,
    toStatus,
    actor: meta.caller.sub,
    agent: meta.agent ?? null,
    details: { ...(meta.details ?? {}), ...(meta.eventId ? { eventId: meta.eventId } : {}) },
  });
}

/** The card's kept history with `entry` added; when full, its oldest go to the buckets. */
async function historyWith(
  repository: CardRepository,
  doc: CardDocument,
  entry: PendingEntry | null,
  session: ClientSession | undefined,
): Promise<Pick<CardDocument, "history" | "archivedHistory">> {
  let archived = doc.archivedHistory ?? 0;
  let kept = doc.history;
  if (!kept) {
    // Stored before histories moved into the card: its changes so far are all archived.
    archived = await repository.events.countDocuments({ cardId: doc._id }, { session });
    kept = [];
  }
  if (!entry) return { history: kept, archivedHistory: archived };
  let history = [...kept, entry(archived + kept.length)];
  if (history.length > HISTORY_KEPT) {
    const moved = history.slice(0, HISTORY_ARCHIVED_AT_ONCE);
    await repository.archiveEvents(moved, session);
    history = history.slice(HISTORY_ARCHIVED_AT_ONCE);
    archived += moved.length;
  }
  return { history, archivedHistory: archived };
}

/** What a change sets on the card: its state and its history with the change added. */
export async function changedFields(
  repository: CardRepository,
  doc: CardDocument,
  transition: Transition,
  meta: CommandMeta,
  session: ClientSession | undefined,
): Promise<Partial<CardDocument>> {
  const after = transition.card;
  const change = transition.change;
  return {
    status: after.status,
    collectedAt: after.collectedAt,
    socialFunction: after.socialFunction,
    electronicCard: after.electronicCard,
    replacedById: after.replacedById,
    updatedAt: meta.now,
    ...(await historyWith(
      repository,
      doc,
      change && historyEntry(doc, meta, change.type, change.fromStatus, change.toStatus),
      session,
    )),
  };
}
