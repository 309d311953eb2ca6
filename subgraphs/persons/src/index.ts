export { buildPersonsSchema } from "./schema.js";
export { startPersonsSubgraph, PERSONS_DEFAULT_PORT } from "./subgraph.js";
export * from "./rules/identity-number.js";
