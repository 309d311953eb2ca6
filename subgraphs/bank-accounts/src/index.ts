export { buildBankAccountsSchema } from "./schema.js";
export { startBankAccountsSubgraph, BANK_ACCOUNTS_DEFAULT_PORT } from "./subgraph.js";
