export { buildBankAccountsSchema } from "./schema.js";
export { startBankAccountsSubgraph } from "./subgraph.js";
