import {
  DEFAULT_PASSWORD_AUDIT_RETENTION_DAYS,
  ensureIdempotencyIndexes,
  Outbox,
  prepareTransactions,
  startHubSubgraph,
  type RunningServer,
  type SubgraphDeps,
} from "@hub/kit";
import { passwordCommands } from "./commands/password-commands.js";
import { passwordEventHandlers } from "./commands/received-events.js";
import type { PasswordsContext } from "./context.js";
import { initialCardPassword } from "./initial-password.js";
import { buildPasswordsSchema } from "./schema.js";
import { createPasswordLoaders } from "./store/loaders.js";
import { PasswordRepository } from "./store/password-repository.js";

export async function startPasswordsSubgraph(deps: SubgraphDeps): Promise<RunningServer> {
  const passwords = new PasswordRepository(deps.db);
  const outbox = new Outbox(deps.db, "passwords");
  // Password changes, resets and electronic locks run in transactions.
  await Promise.all([
    passwords.ensureIndexes(),
    ensureIdempotencyIndexes(deps.db),
    prepareTransactions(deps.db),
  ]);
  const commands = passwordCommands(passwords, outbox, { password: initialCardPassword() });
  return startHubSubgraph<PasswordsContext, "passwords">({
    name: "passwords",
    deps,
    schema: await buildPasswordsSchema(),
    outbox,
    isReady: () => passwords.ping(),
    retained: [
      passwords.audit.retainedFor(
        deps.auditRetentionMs ?? DEFAULT_PASSWORD_AUDIT_RETENTION_DAYS * 86_400_000,
      ),
    ],
    handlers: passwordEventHandlers(passwords),
    context: () => ({ passwords, commands, loaders: createPasswordLoaders(passwords) }),
  });
}
