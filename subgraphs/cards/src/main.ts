import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { startCardsSubgraph } from "./subgraph.js";

await runSubgraphMain("cards", startCardsSubgraph);
