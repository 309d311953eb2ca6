import { startSubgraphServer, systemClock, type RunningServer, type SubgraphDeps } from "@hub/kit";
import type { CardsContext } from "./context.js";
import { buildCardsSchema } from "./schema.js";
import { CardRepository } from "./store/card-repository.js";
import { createCardLoaders } from "./store/loaders.js";

export const CARDS_DEFAULT_PORT = 4002;

export async function startCardsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const cards = new CardRepository(deps.db);
  await cards.ensureIndexes();
  const clock = deps.clock ?? systemClock;
  return startSubgraphServer<CardsContext>({
    name: "cards",
    schema: await buildCardsSchema(),
    port: deps.port,
    host: deps.host,
    verifier: deps.verifier,
    logger: deps.logger,
    isReady: () => cards.ping(),
    createContext: (caller, requestId) => {
      // One instant per request, so every derived status in one answer agrees.
      const at = clock();
      return { caller, requestId, now: () => at, cards, loaders: createCardLoaders(cards) };
    },
  });
}
