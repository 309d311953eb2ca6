export * from "./auth/caller.js";
export * from "./auth/dev-token.js";
export * from "./auth/token-verifier.js";
export * from "./channels.js";
export * from "./clock.js";
export * from "./settings/subgraph-env.js";
export {
  commonEnv,
  describeIssues,
  readSettings,
  TOKEN_KEYS_REQUIRED,
  variablesOf,
} from "./settings/common-env.js";
export * from "./settings/subgraph-urls.js";
export * from "./dataloader.js";
export * from "./errors.js";
export * from "./federation/build-federated-schema.js";
export * from "./logger.js";
export * from "./masking.js";
export * from "./mongo/connect.js";
export * from "./mongo/embedded-mongo.js";
export * from "./scopes.js";
export * from "./server/subgraph-main.js";
export * from "./server/subgraph-server.js";
export * from "./server/read-body.js";
export * from "./graphql/channel-enum.js";
export * from "./graphql/context.js";
export * from "./graphql/pii-middleware.js";
export * from "./graphql/auth-checker.js";
export * from "./mongo/insert-missing.js";
export * from "./graphql/channel-middleware.js";
export * from "./policy/channel-policy.js";
export * from "./events/effects.js";
export * from "./events/event-batch.js";
export * from "./events/hub-event.js";
export * from "./events/inbox.js";
export * from "./events/known-ids.js";
export {
  byId,
  type CarriedEvents,
  type CommitListener,
  type DocumentAddress,
  type EnqueueStamped,
  type OutboxDocument,
} from "./events/outbox-document.js";
export * from "./events/outbox.js";
export * from "./events/relay.js";
export {
  backoffFor,
  relaySettings,
  type RelayMetrics,
  type RelayOptions,
} from "./events/relay-settings.js";
export * from "./mongo/idempotency.js";
export * from "./mongo/majority-read.js";
export * from "./identity/identity-number.js";
export * from "./identity/person-name.js";
export * from "./mongo/transactions.js";
export {
  gateStats,
  needsSerialTransactions,
  prepareTransactions,
} from "./mongo/transaction-turns.js";
export {
  LOCK_LEASE_MS,
  LockLostError,
  TRANSACTION_LOCK_COLLECTION,
} from "./mongo/transaction-lock.js";
export * from "./mongo/retention.js";
export * from "./graphql/agent-input.js";
export * from "./server/hub-subgraph.js";
export * from "./server/streams.js";
export * from "./mongo/document-keys.js";
export * from "./mongo/change-document.js";
export * from "./mongo/command-stats.js";
export * from "./events/catalogue.js";
export * from "./events/dead-letters.js";
export * from "./events/derived-id.js";
export * from "./events/feed-change.js";
export * from "./events/fault-points.js";
export * from "./mongo/set-if-newer.js";
export * from "./events/command-tags.js";
export * from "./events/lane-lease.js";
export * from "./mongo/database-clock.js";
