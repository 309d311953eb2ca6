import {
  ensureIdempotencyIndexes,
  Outbox,
  startHubSubgraph,
  type RunningServer,
  type SubgraphDeps,
} from "@hub/kit";
import type { CardsContext } from "./context.js";
import { buildCardsSchema } from "./schema.js";
import { CardCommands } from "./store/card-commands.js";
import { CardRepository } from "./store/card-repository.js";
import { cardEventHandlers } from "./store/event-handlers.js";
import { createCardLoaders } from "./store/loaders.js";
import { PersonRegistry } from "./store/person-registry.js";

export async function startCardsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const cards = new CardRepository(deps.db);
  const registry = new PersonRegistry(deps.db);
  const outbox = new Outbox(deps.db, "cards", ["bank-accounts", "passwords"]);
  await Promise.all([
    cards.ensureIndexes(),
    registry.ensureCollection(),
    ensureIdempotencyIndexes(deps.db),
  ]);
  const commands = new CardCommands(cards, registry, outbox);
  return startHubSubgraph<CardsContext>({
    name: "cards",
    deps,
    schema: await buildCardsSchema(),
    outbox,
    isReady: () => cards.ping(),
    handlers: cardEventHandlers(commands, cards, registry),
    context: () => ({ cards, commands, loaders: createCardLoaders(cards) }),
  });
}
