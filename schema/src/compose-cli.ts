import "reflect-metadata";
import { writeFile } from "node:fs/promises";
import { composeSupergraph } from "./compose.js";
import { SUPERGRAPH_PATH, subgraphSdlPath } from "./paths.js";

/** `npm run compose`: regenerates schema/*.graphql from the subgraphs' code. */
try {
  const composition = await composeSupergraph();
  for (const [name, sdl] of composition.subgraphs) await writeFile(subgraphSdlPath(name), sdl);
  await writeFile(SUPERGRAPH_PATH, composition.supergraph);
  console.log(`wrote ${composition.subgraphs.size} subgraph SDL files and supergraph.graphql`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
