import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { startPersonsSubgraph } from "./subgraph.js";

await runSubgraphMain("persons", startPersonsSubgraph);
