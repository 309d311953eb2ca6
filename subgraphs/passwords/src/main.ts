import "reflect-metadata";
import { runSubgraphMain } from "@hub/kit";
import { PASSWORDS_DEFAULT_PORT, startPasswordsSubgraph } from "./subgraph.js";

await runSubgraphMain(
  "passwords",
  "PASSWORDS_PORT",
  PASSWORDS_DEFAULT_PORT,
  startPasswordsSubgraph,
);
