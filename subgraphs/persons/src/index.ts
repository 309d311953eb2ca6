export { buildPersonsSchema } from "./schema.js";
export { startPersonsSubgraph } from "./subgraph.js";
export { checkIdNumber, composeIdNumber } from "@hub/kit";
