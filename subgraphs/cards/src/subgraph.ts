import {
  ensureIdempotencyIndexes,
  Inbox,
  Outbox,
  startOutboxRelay,
  startSubgraphServer,
  systemClock,
  withRelay,
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

export const CARDS_DEFAULT_PORT = 4002;

export async function startCardsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const cards = new CardRepository(deps.db);
  const registry = new PersonRegistry(deps.db);
  const outbox = new Outbox(deps.db, "cards");
  await Promise.all([cards.ensureIndexes(), outbox.ensureIndexes(), ensureIdempotencyIndexes(deps.db)]);
  const commands = new CardCommands(cards, registry, outbox);
  const clock = deps.clock ?? systemClock;
  const relay = startOutboxRelay({ outbox, ...deps.events, logger: deps.logger });
  const server = await startSubgraphServer<CardsContext>({
    name: "cards",
    schema: await buildCardsSchema(),
    port: deps.port,
    host: deps.host,
    verifier: deps.verifier,
    logger: deps.logger,
    outboxStats: () => relay.stats(),
    dbStats: deps.dbStats,
    isReady: () => cards.ping(),
    inbox: new Inbox(deps.db, cardEventHandlers(commands, cards, registry)),
    createContext: (caller, requestId) => {
      // One instant per request, so every derived status in one answer agrees.
      const at = clock();
      return { caller, requestId, now: () => at, cards, commands, loaders: createCardLoaders(cards) };
    },
  });
  return withRelay(server, relay);
}
