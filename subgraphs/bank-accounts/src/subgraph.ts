import { startSubgraphServer, systemClock, type RunningServer, type SubgraphDeps } from "@hub/kit";
import type { BankAccountsContext } from "./context.js";
import { buildBankAccountsSchema } from "./schema.js";
import { BankAccountRepository } from "./store/bank-account-repository.js";
import { createBankAccountLoaders } from "./store/loaders.js";

export const BANK_ACCOUNTS_DEFAULT_PORT = 4004;

export async function startBankAccountsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const accounts = new BankAccountRepository(deps.db);
  await accounts.ensureIndexes();
  const clock = deps.clock ?? systemClock;
  return startSubgraphServer<BankAccountsContext>({
    name: "bank-accounts",
    schema: await buildBankAccountsSchema(),
    port: deps.port,
    host: deps.host,
    verifier: deps.verifier,
    logger: deps.logger,
    isReady: () => accounts.ping(),
    createContext: (caller, requestId) => {
      const at = clock();
      return { caller, requestId, now: () => at, accounts, loaders: createBankAccountLoaders(accounts) };
    },
  });
}
