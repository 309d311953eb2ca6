import type { HubContext } from "@hub/kit";
import type { CardCommands } from "./commands/card-commands.js";
import type { CardRepository } from "./store/card-repository.js";
import type { CardLoaders } from "./store/loaders.js";

export interface CardsContext extends HubContext {
  loaders: CardLoaders;
  cards: CardRepository;
  commands: CardCommands;
}
