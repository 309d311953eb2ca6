import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { CARDS_DEFAULT_PORT, startCardsSubgraph } from "./subgraph.js";

await runSubgraphMain("cards", "CARDS_PORT", CARDS_DEFAULT_PORT, startCardsSubgraph);
