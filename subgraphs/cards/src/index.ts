export { buildCardsSchema } from "./schema.js";
export { startCardsSubgraph, CARDS_DEFAULT_PORT } from "./subgraph.js";
