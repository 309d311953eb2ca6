import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding the checked-in SDL files. */
export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SUPERGRAPH_PATH = join(SCHEMA_DIR, "supergraph.graphql");
export const subgraphSdlPath = (name: string): string => join(SCHEMA_DIR, `${name}.graphql`);
/** The API schema as last released: breaking changes are checked against it. */
export const API_BASELINE_PATH = join(SCHEMA_DIR, "api-baseline.graphql");
/** Breaking changes accepted since the baseline, with their reasons. */
export const SCHEMA_CHANGELOG_PATH = join(SCHEMA_DIR, "schema-changelog.json");
