import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding the checked-in SDL files. */
export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SUPERGRAPH_PATH = join(SCHEMA_DIR, "supergraph.graphql");
export const subgraphSdlPath = (name: string): string => join(SCHEMA_DIR, `${name}.graphql`);
