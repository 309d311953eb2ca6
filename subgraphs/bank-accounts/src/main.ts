import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { startBankAccountsSubgraph } from "./subgraph.js";

await runSubgraphMain("bank-accounts", startBankAccountsSubgraph);
