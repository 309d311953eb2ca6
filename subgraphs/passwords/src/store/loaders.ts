import { keyedLoader } from "@hub/kit";
import type { PasswordRepository } from "./password-repository.js";

export function createPasswordLoaders(repository: PasswordRepository) {
  return {
    cardPasswordByCardId: keyedLoader(
      (ids: readonly string[]) => repository.cardPasswords.statesFor(ids),
      (r) => r.cardId,
    ),
    electronicPasswordByPersonId: keyedLoader(
      (ids: readonly string[]) => repository.electronicPasswords.statesFor(ids),
      (r) => r.personId,
    ),
  };
}

export type PasswordLoaders = ReturnType<typeof createPasswordLoaders>;
