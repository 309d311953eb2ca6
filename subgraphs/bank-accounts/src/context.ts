import type { HubContext } from "@hub/kit";
import type { BankCommands } from "./commands/bank-commands.js";
import type { BankAccountRepository } from "./store/bank-account-repository.js";
import type { BankAccountLoaders } from "./store/loaders.js";

export interface BankAccountsContext extends HubContext {
  loaders: BankAccountLoaders;
  accounts: BankAccountRepository;
  commands: BankCommands;
}
