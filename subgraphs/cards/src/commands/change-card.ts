import { changeOneDocument, documentKey, eventKey, HubError } from "@hub/kit";
import { checkElectronicServicesOpen } from "../rules/electronic-card.js";
import { applyCommand, type CardCommand } from "../rules/state-machine.js";
import type { CardDocument } from "../store/card-document.js";
import { toCardRecord } from "../store/card-repository.js";
import { statusEvent } from "./card-events.js";
import { changedFields } from "./card-history.js";
import type { CardStores } from "./card-stores.js";
import type { CommandMeta, CommandResult } from "./command-meta.js";

/**
 * A command that changes one card: one version-guarded update with its history entry, events
 * and idempotency record, no multi-document transaction; a lost race re-reads the card and checks
 * the rules again. Also used for events from other subgraphs, keyed by event id.
 */
export async function changeCard(
  stores: CardStores,
  cardId: string,
  command: CardCommand,
  meta: CommandMeta,
): Promise<CommandResult> {
  return changeOneDocument<CardDocument, CommandResult>({
    collection: stores.repository.cards,
    outbox: stores.outbox,
    effects: meta.effects,
    filter: { _id: cardId },
    key: meta.eventId
      ? eventKey(meta.eventId)
      : documentKey(meta.caller.channel, meta.operation, meta.idempotencyKey, meta.input),
    now: meta.now,
    notFound: () => new HubError("NOT_FOUND", `No card has the id "${cardId}".`),
    decide: async (doc) => {
      const before = toCardRecord(doc);
      const transition = applyCommand(before, command, meta.caller.channel, meta.now);
      if (transition.replacement) throw new Error("a replacement writes two cards: use run()");
      if (command.kind === "ISSUE_ELECTRONIC_CARD")
        checkElectronicServicesOpen(
          await stores.registry.electronicLockUntil(before.personId),
          meta.now,
        );
      const result: CommandResult = {
        cardId,
        card: before,
        firstActivation: transition.firstActivation,
      };
      if (!transition.change) return { result };
      result.card = { ...transition.card, number: before.number, version: before.version + 1 };
      const event = statusEvent(doc, transition, meta);
      return {
        result,
        set: await changedFields(stores.repository, doc, transition, meta, undefined),
        events: event ? [event] : [],
      };
    },
  });
}
