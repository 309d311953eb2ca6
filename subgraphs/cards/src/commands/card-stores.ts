import type { Outbox } from "@hub/kit";
import type { CardRepository } from "../store/card-repository.js";
import type { PersonRegistry } from "../store/person-registry.js";

/** What the card commands read and write through, wired once by CardCommands. */
export interface CardStores {
  repository: CardRepository;
  registry: PersonRegistry;
  outbox: Outbox;
  /** Draws a printed number (tests draw their own, in turn). */
  drawNumber: () => string;
}
