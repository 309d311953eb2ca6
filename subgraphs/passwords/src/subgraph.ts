import { startSubgraphServer, systemClock, type RunningServer, type SubgraphDeps } from "@hub/kit";
import type { PasswordsContext } from "./context.js";
import { buildPasswordsSchema } from "./schema.js";
import { createPasswordLoaders } from "./store/loaders.js";
import { PasswordRepository } from "./store/password-repository.js";

export const PASSWORDS_DEFAULT_PORT = 4003;

export async function startPasswordsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const passwords = new PasswordRepository(deps.db);
  await passwords.ensureIndexes();
  const clock = deps.clock ?? systemClock;
  return startSubgraphServer<PasswordsContext>({
    name: "passwords",
    schema: await buildPasswordsSchema(),
    port: deps.port,
    host: deps.host,
    verifier: deps.verifier,
    logger: deps.logger,
    isReady: () => passwords.ping(),
    createContext: (caller, requestId) => {
      const at = clock();
      return { caller, requestId, now: () => at, passwords, loaders: createPasswordLoaders(passwords) };
    },
  });
}
