import {
  Outbox,
  startHubSubgraph,
  type Db,
  type EventHandlers,
  type RunningServer,
  type SubgraphDeps,
} from "@hub/kit";
import type { BankAccountsContext } from "./context.js";
import { buildBankAccountsSchema } from "./schema.js";
import { BankCommands } from "./commands/bank-commands.js";
import { bankEventHandlers } from "./commands/received-events.js";
import { accountAddress, BankAccountRepository } from "./store/bank-account-repository.js";
import { createBankAccountLoaders } from "./store/loaders.js";

/** The subgraph's store, commands and event handlers, wired as the server runs them. */
export interface BankAccountsParts {
  accounts: BankAccountRepository;
  outbox: Outbox;
  commands: BankCommands;
  handlers: EventHandlers<"bank-accounts">;
}

/**
 * Wires the store, outbox, commands and handlers (indexes created). One function for the server
 * and for tests that call the handlers directly, so both see the same carrier address.
 */
export async function buildBankAccountsParts(db: Db): Promise<BankAccountsParts> {
  const accounts = new BankAccountRepository(db);
  const outbox = new Outbox(db, "bank-accounts");
  await accounts.ensureIndexes();
  // Every version-guarded write and release addresses an account by its shard key.
  outbox.carriedIn(accounts.accountsAsCarrier, accountAddress);
  const commands = new BankCommands(accounts, outbox);
  return { accounts, outbox, commands, handlers: bankEventHandlers(accounts, outbox) };
}

export async function startBankAccountsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const { accounts, outbox, commands, handlers } = await buildBankAccountsParts(deps.db);
  return startHubSubgraph<BankAccountsContext, "bank-accounts">({
    name: "bank-accounts",
    deps,
    schema: await buildBankAccountsSchema(),
    outbox,
    isReady: () => accounts.ping(),
    handlers,
    context: () => ({ accounts, commands, loaders: createBankAccountLoaders(accounts) }),
  });
}
