import type { Outbox } from "@hub/kit";
import type { PasswordRepository } from "../store/password-repository.js";
import { CardPasswordCommands } from "./card-password-commands.js";
import { ElectronicPasswordCommands } from "./electronic-password-commands.js";

/** The password commands, one family per kind of password. */
export interface PasswordCommands {
  card: CardPasswordCommands;
  electronic: ElectronicPasswordCommands;
}

/** Both families wired to the store, the outbox and the deployment's initial card password. */
export function passwordCommands(
  repository: PasswordRepository,
  outbox: Outbox,
  initial: { password: string },
): PasswordCommands {
  return {
    card: new CardPasswordCommands(repository, outbox, initial),
    electronic: new ElectronicPasswordCommands(repository, outbox, initial),
  };
}
