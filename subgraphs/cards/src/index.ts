export { buildCardsSchema } from "./schema.js";
export { startCardsSubgraph } from "./subgraph.js";
