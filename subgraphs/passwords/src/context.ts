import type { HubContext } from "@hub/kit";
import type { PasswordCommands } from "./commands/password-commands.js";
import type { PasswordLoaders } from "./store/loaders.js";
import type { PasswordRepository } from "./store/password-repository.js";

export interface PasswordsContext extends HubContext {
  loaders: PasswordLoaders;
  passwords: PasswordRepository;
  commands: PasswordCommands;
}
