export { createHubGateway, type HubGatewayOptions } from "./gateway.config.js";
export { startGatewayServer, type GatewayServerOptions, type RunningGateway } from "./server.js";
export { persistedDocumentsOf, type PersistedDocument } from "./persisted-documents.js";
export { splitOperations, type NamedOperation } from "./sandbox/contract-operations.js";
export { DEFAULT_QUERY_LIMITS } from "./plugins/query-limits.plugin.js";
