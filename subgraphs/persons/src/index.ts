export { buildPersonsSchema } from "./schema.js";
export { startPersonsSubgraph, PERSONS_DEFAULT_PORT } from "./subgraph.js";
export { checkIdNumber, composeIdNumber } from "@hub/kit";
