import { ensureIdempotencyIndexes, Outbox, startOutboxRelay, startSubgraphServer, systemClock, withRelay, type RunningServer, type SubgraphDeps } from "@hub/kit";
import type { PersonsContext } from "./context.js";
import { buildPersonsSchema } from "./schema.js";
import { createPersonLoaders } from "./store/loaders.js";
import { PersonRepository } from "./store/person-repository.js";

export const PERSONS_DEFAULT_PORT = 4001;

export async function startPersonsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const outbox = new Outbox(deps.db, "persons");
  await outbox.ensureIndexes();
  await ensureIdempotencyIndexes(deps.db);
  const persons = new PersonRepository(deps.db, outbox);
  await persons.ensureIndexes();
  const clock = deps.clock ?? systemClock;
  const relay = startOutboxRelay({ outbox, ...deps.events, logger: deps.logger });
  const server = await startSubgraphServer<PersonsContext>({
    name: "persons",
    schema: await buildPersonsSchema(),
    port: deps.port,
    host: deps.host,
    verifier: deps.verifier,
    logger: deps.logger,
    outboxStats: () => relay.stats(),
    dbStats: deps.dbStats,
    isReady: () => persons.ping(),
    createContext: (caller, requestId) => {
      const at = clock();
      return { caller, requestId, now: () => at, persons, loaders: createPersonLoaders(persons) };
    },
  });
  return withRelay(server, relay);
}
