import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { loadFeedSettings } from "./settings.js";
import { startFeedSubgraph } from "./subgraph.js";

// The feed's own settings are read inside the start, so a bad one is reported as the others are.
await runSubgraphMain("feed", (deps) => startFeedSubgraph(deps, loadFeedSettings()));
