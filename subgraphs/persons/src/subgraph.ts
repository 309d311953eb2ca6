import { Outbox, startHubSubgraph, type RunningServer, type SubgraphDeps } from "@hub/kit";
import type { PersonsContext } from "./context.js";
import { buildPersonsSchema } from "./schema.js";
import { createPersonLoaders } from "./store/loaders.js";
import { PersonRepository } from "./store/person-repository.js";

export async function startPersonsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const outbox = new Outbox(deps.db, "persons", ["cards", "passwords"]);
  const persons = new PersonRepository(deps.db, outbox);
  await persons.ensureIndexes();
  return startHubSubgraph<PersonsContext>({
    name: "persons",
    deps,
    schema: await buildPersonsSchema(),
    outbox,
    isReady: () => persons.ping(),
    context: () => ({ persons, loaders: createPersonLoaders(persons) }),
  });
}
