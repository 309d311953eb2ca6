import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding the checked-in SDL files. */
export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SUPERGRAPH_PATH = join(SCHEMA_DIR, "supergraph.graphql");
/** The contract's documents, checked in as copies of ../shared/contract (validated, not written). */
export const CONTRACT_DOCUMENTS: readonly string[] = ["operations.graphql", "feed.graphql"];
/**
 * A subgraph's SDL: `<name>.graphql`, or `<name>.subgraph.graphql` where a contract document has
 * that name (the feed subgraph beside the contract's feed.graphql).
 */
export const subgraphSdlPath = (name: string): string =>
  join(
    SCHEMA_DIR,
    CONTRACT_DOCUMENTS.includes(`${name}.graphql`) ? `${name}.subgraph.graphql` : `${name}.graphql`,
  );
/** The API schema as last released: breaking changes are checked against it. */
export const API_BASELINE_PATH = join(SCHEMA_DIR, "api-baseline.graphql");
/** Breaking changes accepted since the baseline, with their reasons. */
export const SCHEMA_CHANGELOG_PATH = join(SCHEMA_DIR, "schema-changelog.json");
