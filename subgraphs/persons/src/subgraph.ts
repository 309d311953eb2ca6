import {
  ensureIdempotencyIndexes,
  Outbox,
  startHubSubgraph,
  type RunningServer,
  type SubgraphDeps,
} from "@hub/kit";
import { PersonRegistration } from "./commands/register-person.js";
import type { PersonsContext } from "./context.js";
import { buildPersonsSchema } from "./schema.js";
import { createPersonLoaders } from "./store/loaders.js";
import { PersonRepository } from "./store/person-repository.js";

export async function startPersonsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const outbox = new Outbox(deps.db, "persons");
  const persons = new PersonRepository(deps.db);
  const registration = new PersonRegistration(persons, outbox);
  // Registration keys are bound in `idempotency_keys` (swept with HUB_RETENTION_HOURS).
  await Promise.all([persons.ensureIndexes(), ensureIdempotencyIndexes(deps.db)]);
  // Persons stored before their identity numbers had lookup documents get them before any
  // request is served (a no-op once every person has one).
  const backfilled = await persons.backfillIdNumbers();
  if (backfilled > 0) deps.logger.info({ backfilled }, "identity number lookups backfilled");
  return startHubSubgraph<PersonsContext, "persons">({
    name: "persons",
    deps,
    schema: await buildPersonsSchema(),
    outbox,
    isReady: () => persons.ping(),
    context: () => ({ persons, registration, loaders: createPersonLoaders(persons) }),
  });
}
