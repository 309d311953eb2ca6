import { Outbox, startHubSubgraph, type RunningServer, type SubgraphDeps } from "@hub/kit";
import type { BankAccountsContext } from "./context.js";
import { buildBankAccountsSchema } from "./schema.js";
import { BankAccountRepository } from "./store/bank-account-repository.js";
import { BankCommands } from "./store/bank-commands.js";
import { bankEventHandlers } from "./store/event-handlers.js";
import { createBankAccountLoaders } from "./store/loaders.js";

export async function startBankAccountsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const accounts = new BankAccountRepository(deps.db);
  const outbox = new Outbox(deps.db, "bank-accounts", ["cards"]);
  await accounts.ensureIndexes();
  outbox.carriedIn(accounts.accountsAsCarrier);
  const commands = new BankCommands(accounts, outbox);
  return startHubSubgraph<BankAccountsContext>({
    name: "bank-accounts",
    deps,
    schema: await buildBankAccountsSchema(),
    outbox,
    isReady: () => accounts.ping(),
    handlers: bankEventHandlers(accounts, outbox),
    context: () => ({ accounts, commands, loaders: createBankAccountLoaders(accounts) }),
  });
}
