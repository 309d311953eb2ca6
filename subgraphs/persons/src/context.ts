import type { HubContext } from "@hub/kit";
import type { PersonRegistration } from "./commands/register-person.js";
import type { PersonLoaders } from "./store/loaders.js";
import type { PersonRepository } from "./store/person-repository.js";

export interface PersonsContext extends HubContext {
  loaders: PersonLoaders;
  persons: PersonRepository;
  registration: PersonRegistration;
}
