export { composeSupergraph, CompositionError } from "./compose.js";
export { SUPERGRAPH_PATH, SCHEMA_DIR, subgraphSdlPath } from "./paths.js";
export { SUBGRAPHS } from "./subgraphs.js";
export { apiSchemaOf } from "./api-schema.js";
