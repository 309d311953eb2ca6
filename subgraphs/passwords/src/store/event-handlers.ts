import type { EventHandlers, ReceivedEvent } from "@hub/kit";
import type { PasswordRepository } from "./password-repository.js";

/**
 * The cards and persons this subgraph may hold passwords for, learnt from their events, and each
 * card's status (R-CARD-10: a cancelled card's password is no longer usable). Card events carry
 * the card's absolute state at a version, and the status is recorded only if that version is
 * newer than the one recorded: any order, duplicate or gap ends with the newest version's status.
 */
export function passwordEventHandlers(repository: PasswordRepository): EventHandlers<"passwords"> {
  const noteStatus = async (
    event: ReceivedEvent<"CardIssued"> | ReceivedEvent<"CardStatusChanged">,
  ): Promise<void> => {
    const { cardId, status, cardVersion } = event.payload;
    await repository.noteCardStatus(cardId, status, cardVersion);
  };
  return {
    CardIssued: async (event) => {
      await noteStatus(event);
      await repository.knownCards.add(event.payload.cardId, new Date(event.occurredAt));
    },
    CardStatusChanged: noteStatus,
    PersonRegistered: async (event) =>
      repository.knownPersons.add(event.payload.personId, new Date(event.occurredAt)),
  };
}
