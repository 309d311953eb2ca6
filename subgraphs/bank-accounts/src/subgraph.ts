import {
  ensureIdempotencyIndexes,
  Inbox,
  Outbox,
  startOutboxRelay,
  startSubgraphServer,
  systemClock,
  withRelay,
  type RunningServer,
  type SubgraphDeps,
} from "@hub/kit";
import { BankCommands } from "./store/bank-commands.js";
import { bankEventHandlers } from "./store/event-handlers.js";
import type { BankAccountsContext } from "./context.js";
import { buildBankAccountsSchema } from "./schema.js";
import { BankAccountRepository } from "./store/bank-account-repository.js";
import { createBankAccountLoaders } from "./store/loaders.js";

export const BANK_ACCOUNTS_DEFAULT_PORT = 4004;

export async function startBankAccountsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const accounts = new BankAccountRepository(deps.db);
  const outbox = new Outbox(deps.db, "bank-accounts");
  await Promise.all([accounts.ensureIndexes(), outbox.ensureIndexes(), ensureIdempotencyIndexes(deps.db)]);
  const commands = new BankCommands(accounts, outbox);
  const clock = deps.clock ?? systemClock;
  const relay = startOutboxRelay({ outbox, ...deps.events, logger: deps.logger });
  const server = await startSubgraphServer<BankAccountsContext>({
    name: "bank-accounts",
    schema: await buildBankAccountsSchema(),
    port: deps.port,
    host: deps.host,
    verifier: deps.verifier,
    logger: deps.logger,
    outboxStats: () => relay.stats(),
    dbStats: deps.dbStats,
    isReady: () => accounts.ping(),
    inbox: new Inbox(deps.db, bankEventHandlers(accounts, outbox)),
    createContext: (caller, requestId) => {
      const at = clock();
      return { caller, requestId, now: () => at, accounts, commands, loaders: createBankAccountLoaders(accounts) };
    },
  });
  return withRelay(server, relay);
}
