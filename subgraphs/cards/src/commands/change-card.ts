import { changeOneDocument, documentKey, eventKey, HubError } from "@hub/kit";
import { checkElectronicServicesOpen } from "../rules/electronic-card.js";
import { applyCommand, type CardCommand, type Transition } from "../rules/state-machine.js";
import type { CardDocument } from "../store/card-document.js";
import { toCardRecord } from "../store/card-repository.js";
import { forwardedEvent, statusEvent } from "./card-events.js";
import { changedFields } from "./card-history.js";
import type { CardStores } from "./card-stores.js";
import type { CommandMeta, CommandResult } from "./command-meta.js";

/**
 * A command that changes one card: one version-guarded update with its history entry, events
 * and idempotency record, no multi-document transaction; a lost race re-reads the card and checks
 * the rules again. Also used for events from other subgraphs, keyed by event id; one the feed
 * hears of through cards (`meta.passOn`) is passed on in the same write, and with no command
 * (null) that is all the write does.
 */
export async function changeCard(
  stores: CardStores,
  cardId: string,
  command: CardCommand | null,
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
    notFound: () => new HubError("NOT_FOUND", `No card has the id "${cardId}".`),
    decide: async (doc) => {
      const before = toCardRecord(doc);
      const result: CommandResult = { cardId, card: before };
      // Before the command: the passed-on event happened first (it caused the command).
      const passedOn = meta.passOn ? forwardedEvent(doc, meta.passOn) : null;
      // Only the card's version, its record of the event and the event passed on are written
      // when the card itself does not change: the event must reach the feed all the same.
      const passOnOnly = passedOn ? { result, set: {}, events: [passedOn] } : { result };
      let transition: Transition;
      try {
        if (!command) return passOnOnly;
        transition = applyCommand(before, command, meta.caller.channel, meta.now);
        if (transition.replacement) throw new Error("a replacement writes two cards: use run()");
        if (command.kind === "ISSUE_ELECTRONIC_CARD")
          checkElectronicServicesOpen(
            await stores.registry.electronicLockUntil(before.personId),
            meta.now,
          );
      } catch (error) {
        // A received event's command the card refuses for good (R-CARD-10: cancelled) still
        // happened where it was committed: the feed hears of it.
        if (passedOn && error instanceof HubError && error.code === "INVALID_TRANSITION")
          return passOnOnly;
        throw error;
      }
      result.firstActivation = transition.firstActivation;
      if (!transition.change) return passOnOnly;
      result.card = { ...transition.card, number: before.number, version: before.version + 1 };
      const event = statusEvent(doc, transition, meta);
      return {
        result,
        set: await changedFields(stores.repository, doc, transition, meta, undefined),
        events: [...(passedOn ? [passedOn] : []), ...(event ? [event] : [])],
      };
    },
  });
}
