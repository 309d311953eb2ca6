import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { startPasswordsSubgraph } from "./subgraph.js";

await runSubgraphMain("passwords", startPasswordsSubgraph);
