import {
  beside,
  HubError,
  type EffectScope,
  type EventHandlers,
  type ReceivedEvent,
} from "@hub/kit";
import type { MirroredBankAccountStatus } from "../model/enums.js";
import type { CardCommands } from "./card-commands.js";
import { forwardedEvent, type FeedReported } from "./card-events.js";
import type { CommandMeta } from "./command-meta.js";
import type { CardRepository } from "../store/card-repository.js";
import type { PersonRegistry } from "../store/person-registry.js";

/** The events that enable a card's social security function (R-BANK-2, R-PWD-2). */
type EnablingEvent =
  ReceivedEvent<"FinancialFunctionActivated"> | ReceivedEvent<"InitialPasswordChanged">;

/** R-ID-2: the agent who acted in the event's own subgraph, recorded on the effect here too. */
function agentOf(event: EnablingEvent) {
  return "agent" in event.payload ? event.payload.agent : null;
}

/**
 * The command's context for a received event: its original actor and channel, its time, and its
 * id, recorded in the card so that a redelivery changes nothing. An event the feed hears of
 * through cards is passed on in the same write (docs/feed.md "Per-card order").
 */
function metaOf(
  event: EnablingEvent | FeedReported,
  effects: EffectScope,
  operation: string,
  details?: CommandMeta["details"],
): CommandMeta {
  const passOn = event.type === "InitialPasswordChanged" ? undefined : event;
  return {
    caller: { sub: event.actor, channel: event.channel, scopes: new Set() },
    now: new Date(event.occurredAt),
    operation,
    input: null,
    ...(details ? { details } : {}),
    eventId: event.id,
    ...(passOn ? { passOn } : {}),
    effects,
  };
}

/**
 * Effects of other subgraphs' events on cards. Each handler converges whatever the order,
 * duplication or concurrency of delivery: one conditional single-document write (the newest
 * version or the latest lock wins), or a command recorded in the card by event id. A handler
 * throws on what may pass (a lost race, CONFLICT, a card not found), so the relay retries the
 * event with backoff and dead-letters it after its attempts; it returns only on final outcomes.
 */
export function cardEventHandlers(
  commands: CardCommands,
  repository: CardRepository,
  registry: PersonRegistry,
): EventHandlers<"cards"> {
  /**
   * Enabling through an event keeps the original actor and channel (R-BANK-2: BANK_COUNTER;
   * R-PWD-2: the channel of the password change). A card whose function is already enabled
   * changes nothing (R-CARD-4: no write, so no history entry however often the event comes).
   *
   * A card reported lost since the holder acted is enabled under its loss report (R-BANK-2 says
   * activating enables the card: the holder did act while it was in use), so withdrawing the
   * report returns it to NORMAL. INVALID_TRANSITION is the one final refusal: the card is
   * cancelled (R-CARD-10, it never changes again) or expired, and the event consumes without
   * change. NOT_FOUND is not final: a card exists before any event about it (CardIssued is released
   * only once the card is stored, the claim sweep included), so a missing card is a fault to
   * retry and then dead-letter, visibly, rather than drop. CONFLICT (lost races) and anything
   * else are retried.
   */
  const enableFrom = (via: string) => async (event: EnablingEvent, effects: EffectScope) => {
    try {
      await commands.applyToCard(
        event.payload.cardId,
        { kind: "ENABLE_SOCIAL_FUNCTION", byEvent: true },
        {
          ...metaOf(event, effects, "enableSocialSecurityFunction", { via }),
          agent: agentOf(event),
        },
      );
    } catch (error) {
      if (error instanceof HubError && error.code === "INVALID_TRANSITION") return;
      throw error;
    }
  };
  /**
   * An event that changes nothing on the card and that the feed reports: passed on to the feed
   * in a write of the card, in this card's order. NOT_FOUND is not final (see enableFrom).
   */
  const passOn = async (event: FeedReported, effects: EffectScope): Promise<void> => {
    await commands.passOnToFeed(event.payload.cardId, metaOf(event, effects, "passOnToFeed"));
  };
  return {
    PersonRegistered: async (event) => {
      await registry.add(event.payload.personId, new Date(event.occurredAt));
    },
    BankAccountStatusChanged: async (event, effects) => {
      const { cardId, status, accountVersion } = event.payload;
      // Read for the card's person only: the write names the card by its full shard key.
      const card = await repository.cards.findOne({ _id: cardId }, { projection: { personId: 1 } });
      // Not final (see enableFrom): the bank hears of a card only from its CardIssued, which is
      // released once the card is stored.
      if (!card)
        throw new Error(`BankAccountStatusChanged for card ${cardId}, which is not stored`);
      // One conditional update: only a newer account version than the mirror's is written, so
      // any order, duplicate or concurrent delivery ends at the newest version's status. Not a
      // card version change: no command writes the mirror's fields (nor this the command's), so
      // neither overwrites the other, and a mirror update makes no command lose its race.
      await beside(repository.db, () =>
        repository.cards.updateOne(
          {
            personId: card.personId,
            _id: cardId,
            $or: [
              { bankAccountVersion: { $lt: accountVersion } },
              // Never announced: missing, or null (both match null).
              { bankAccountVersion: null },
            ],
          },
          {
            $set: {
              bankAccountStatus: status as MirroredBankAccountStatus,
              bankAccountVersion: accountVersion,
            },
          },
        ),
      );
      // Only a change the feed reports (the account's cancellation at the bank) costs a card
      // write, apart from the mirror's: the mirror converges by the account's version, the
      // event's record by its id, each on its own.
      if (forwardedEvent(card, event)) await passOn(event, effects);
    },
    CardPasswordStateChanged: passOn,
    ElectronicPasswordLocked: async (event) => {
      await registry.noteElectronicLock(
        event.payload.personId,
        new Date(event.payload.lockedUntil),
      );
    },
    FinancialFunctionActivated: enableFrom("financial function activated (R-BANK-2)"),
    InitialPasswordChanged: enableFrom("initial password changed (R-PWD-2)"),
  };
}
