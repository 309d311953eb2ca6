import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { PERSONS_DEFAULT_PORT, startPersonsSubgraph } from "./subgraph.js";

await runSubgraphMain("persons", "PERSONS_PORT", PERSONS_DEFAULT_PORT, startPersonsSubgraph);
