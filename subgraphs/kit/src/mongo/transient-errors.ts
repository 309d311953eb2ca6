import {
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from "mongodb";

/** The database cannot be reached at all (a client sees SERVICE_UNAVAILABLE). */
export function isDatabaseUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError
  );
}

/**
 * Server codes of a replica set changing hands or shutting down: NotWritablePrimary,
 * NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary, InterruptedDueToReplStateChange,
 * PrimarySteppedDown, ShutdownInProgress, InterruptedAtShutdown, HostUnreachable, HostNotFound,
 * NetworkTimeout, SocketException, WriteConcernFailed.
 */
const REPLICATION_STATE_CODES = new Set([
  10107, 13435, 13436, 11602, 189, 91, 11600, 6, 7, 89, 9001, 64,
  // LegacyNotPrimary, ExceededTimeLimit, MaxTimeMSExpired, NoSuchTransaction (a failover ended
  // it), and a sharded cluster's routing moving under the operation: StaleConfig,
  // StaleShardVersion, StaleEpoch.
  10058, 262, 50, 251, 13388, 63, 150,
]);

/**
 * A failure of the database rather than of what was asked of it: unreachable, a failover under
 * way, a write concern not met. Trying the same thing again later can succeed, so it says
 * nothing about the work itself (an event is not at fault for its receiver's election).
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (isDatabaseUnavailable(error) || error instanceof MongoWriteConcernError) return true;
  if (!(error instanceof MongoError)) return false;
  if (
    error.hasErrorLabel("RetryableWriteError") ||
    error.hasErrorLabel("TransientTransactionError") ||
    error.hasErrorLabel("UnknownTransactionCommitResult")
  )
    return true;
  return typeof error.code === "number" && REPLICATION_STATE_CODES.has(error.code);
}
