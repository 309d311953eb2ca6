import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { BANK_ACCOUNTS_DEFAULT_PORT, startBankAccountsSubgraph } from "./subgraph.js";

await runSubgraphMain(
  "bank-accounts",
  "BANK_ACCOUNTS_PORT",
  BANK_ACCOUNTS_DEFAULT_PORT,
  startBankAccountsSubgraph,
);
