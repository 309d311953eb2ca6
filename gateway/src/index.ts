export { createHubGateway, type HubGatewayOptions } from "./hub-gateway.js";
export { startGatewayServer, type GatewayServerOptions, type RunningGateway } from "./server.js";
export {
  loadManifests,
  manifestOf,
  persistedDocumentsOf,
  type PersistedDocument,
  type PersistedQueryManifest,
} from "./persisted-documents.js";
export { contractManifest, MANIFEST_PATH } from "./write-manifest.js";
export { splitOperations, type NamedOperation } from "./sandbox/contract-operations.js";
export { DEFAULT_QUERY_LIMITS } from "./plugins/query-limits.plugin.js";
export { connectSharedStore, redisPersistedQueryStore } from "./shared-store.js";
export { gatewayEnv, loadGatewayEnv } from "./gateway-env.js";
