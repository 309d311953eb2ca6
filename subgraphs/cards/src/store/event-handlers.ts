import { HubError, type EventHandler, type HubEvent } from "@hub/kit";
import type { MirroredBankAccountStatus } from "../model/enums.js";
import type { CardCommands, CommandMeta } from "./card-commands.js";
import type { CardRepository } from "./card-repository.js";
import type { PersonRegistry } from "./person-registry.js";

/** R-ID-2: the agent who acted in the event's own subgraph, recorded on the effect here too. */
function agentOf(event: HubEvent): CommandMeta["agent"] {
  const agent = event.payload["agent"];
  if (!agent || typeof agent !== "object") return null;
  const { idNumber, name, powerOfAttorneyRef } = agent as Record<string, unknown>;
  return typeof idNumber === "string" &&
    typeof name === "string" &&
    typeof powerOfAttorneyRef === "string"
    ? { idNumber, name, powerOfAttorneyRef }
    : null;
}

function cardIdOf(event: HubEvent): string {
  const cardId = event.payload["cardId"];
  if (typeof cardId !== "string") throw new Error(`event ${event.id} has no cardId`);
  return cardId;
}

/**
 * Effects of other subgraphs' events on cards. Enabling through an event keeps the original actor
 * and channel (R-BANK-2: BANK_COUNTER; R-PWD-2: the channel of the password change). A card that
 * can no longer be enabled (cancelled meanwhile) consumes the event without change.
 */
export function cardEventHandlers(
  commands: CardCommands,
  repository: CardRepository,
  registry: PersonRegistry,
): Record<string, EventHandler> {
  const enableFrom =
    (via: string): EventHandler =>
    async (event, effects) => {
      const agent = agentOf(event);
      try {
        await commands.applyToCard(
          cardIdOf(event),
          { kind: "ENABLE_SOCIAL_FUNCTION" },
          {
            caller: { sub: event.actor, channel: event.channel, scopes: new Set() },
            now: new Date(event.occurredAt),
            operation: "enableSocialSecurityFunction",
            input: null,
            details: { via },
            agent,
            // Recorded in the card: a redelivered event changes nothing.
            eventId: event.id,
            effects,
          },
        );
      } catch (error) {
        if (!(error instanceof HubError)) throw error;
      }
    };
  return {
    PersonRegistered: async (event) => {
      const personId = event.payload["personId"];
      if (typeof personId === "string") await registry.add(personId, new Date(event.occurredAt));
    },
    BankAccountStatusChanged: async (event) => {
      // Only what is newer than the mirror: events of one account may arrive out of order.
      const version = Number(event.payload["accountVersion"] ?? 0);
      const card = await repository.cards.findOne({ _id: cardIdOf(event) });
      if (!card || (card.bankAccountVersion ?? 0) >= version) return;
      await repository.cards.updateOne(
        { _id: card._id },
        {
          $set: {
            bankAccountStatus: event.payload["status"] as MirroredBankAccountStatus,
            bankAccountVersion: version,
          },
        },
      );
    },
    ElectronicPasswordLocked: async (event) => {
      const personId = event.payload["personId"];
      const until = new Date(String(event.payload["lockedUntil"]));
      if (typeof personId === "string" && !Number.isNaN(until.getTime()))
        await registry.noteElectronicLock(personId, until);
    },
    FinancialFunctionActivated: enableFrom("financial function activated (R-BANK-2)"),
    InitialPasswordChanged: enableFrom("initial password changed (R-PWD-2)"),
  };
}
