import type { EventHandlers, ReceivedEvent } from "@hub/kit";
import type { PasswordRepository } from "../store/password-repository.js";

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
    const { cardId, status, cardVersion, personId } = event.payload;
    await repository.known.noteCardStatus(cardId, status, cardVersion, personId);
  };
  return {
    CardIssued: async (event) => {
      await noteStatus(event);
      await repository.known.cards.add(event.payload.cardId, new Date(event.occurredAt));
    },
    CardStatusChanged: noteStatus,
    PersonRegistered: async (event) =>
      repository.known.persons.add(event.payload.personId, new Date(event.occurredAt)),
  };
}
