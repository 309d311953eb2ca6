import type { EventHandler } from "@hub/kit";
import type { PasswordRepository } from "./password-repository.js";

/** The cards and persons this subgraph may hold passwords for, learnt from their events. */
export function passwordEventHandlers(
  repository: PasswordRepository,
): Record<string, EventHandler> {
  return {
    CardIssued: async (event) =>
      repository.knownCards.add(String(event.payload["cardId"]), new Date(event.occurredAt)),
    PersonRegistered: async (event) =>
      repository.knownPersons.add(String(event.payload["personId"]), new Date(event.occurredAt)),
  };
}
