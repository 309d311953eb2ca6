import {
  ensureIdempotencyIndexes,
  Outbox,
  prepareTransactions,
  startHubSubgraph,
  type Db,
  type EventHandlers,
  type RunningServer,
  type SubgraphDeps,
} from "@hub/kit";
import type { CardsContext } from "./context.js";
import { buildCardsSchema } from "./schema.js";
import { CardCommands } from "./commands/card-commands.js";
import { cardEventHandlers } from "./commands/received-events.js";
import { CardRepository } from "./store/card-repository.js";
import { createCardLoaders } from "./store/loaders.js";
import { PersonRegistry } from "./store/person-registry.js";

/** The subgraph's store, commands and event handlers, wired as the server runs them. */
export interface CardsParts {
  cards: CardRepository;
  registry: PersonRegistry;
  outbox: Outbox;
  commands: CardCommands;
  handlers: EventHandlers<"cards">;
}

/**
 * Wires the store, outbox, commands and handlers (indexes created). One function for the server
 * and for tests that call the handlers directly, so both see the same carrier address.
 */
export async function buildCardsParts(
  db: Db,
  /** Tests only: the card numbers drawn, in turn (otherwise crypto's random draws). */
  options: { drawNumber?: () => string } = {},
): Promise<CardsParts> {
  const cards = new CardRepository(db);
  const registry = new PersonRegistry(db);
  const outbox = new Outbox(db, "cards");
  await Promise.all([
    cards.ensureIndexes(),
    registry.ensureCollection(),
    ensureIdempotencyIndexes(db),
    // Replacements run in transactions.
    prepareTransactions(db),
  ]);
  const commands = new CardCommands(cards, registry, outbox, options.drawNumber);
  // Issues whose request stopped between its claim and storing the card: the relay's sweep stores
  // them (a claim counts as stranded at the outbox's age: a writer that is only slow finishes
  // first, and storing a claimed card twice is harmless anyway).
  outbox.onSweep("issue claims", (olderThanMs) => commands.completeStrandedClaims(olderThanMs));
  return {
    cards,
    registry,
    outbox,
    commands,
    handlers: cardEventHandlers(commands, cards, registry),
  };
}

export async function startCardsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const { cards, outbox, commands, handlers } = await buildCardsParts(deps.db);
  // Cards stored before their numbers were reserved per province get their reservations before
  // any request is served (a no-op once every card has one).
  const reserved = await cards.backfillCardNumbers();
  if (reserved > 0) deps.logger.info({ reserved }, "card number reservations backfilled");
  return startHubSubgraph<CardsContext, "cards">({
    name: "cards",
    deps,
    schema: await buildCardsSchema(),
    outbox,
    isReady: () => cards.ping(),
    handlers,
    context: () => ({ cards, commands, loaders: createCardLoaders(cards) }),
  });
}
