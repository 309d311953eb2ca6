import { keyedLoader } from "@hub/kit";
import type { PersonRepository } from "./person-repository.js";

/** Per-request loaders: one database round trip per batch, whatever the number of persons. */
export function createPersonLoaders(repository: PersonRepository) {
  return {
    personById: keyedLoader(
      (ids: readonly string[]) => repository.findByIds(ids),
      (p) => p.id,
    ),
    personByIdNumber: keyedLoader(
      (idNumbers: readonly string[]) => repository.findByIdNumbers(idNumbers),
      (p) => p.idNumber,
    ),
  };
}

export type PersonLoaders = ReturnType<typeof createPersonLoaders>;
