import { readFile, writeFile } from "node:fs/promises";
import { printApiSchema } from "./breaking-changes.js";
import { API_BASELINE_PATH, SCHEMA_CHANGELOG_PATH, SUPERGRAPH_PATH } from "./paths.js";

/**
 * `npm run release-baseline -w @hub/schema`: at a release, the API as it is becomes the baseline
 * and the changelog of accepted breaking changes starts empty again.
 */
await writeFile(API_BASELINE_PATH, printApiSchema(await readFile(SUPERGRAPH_PATH, "utf8")));
await writeFile(SCHEMA_CHANGELOG_PATH, JSON.stringify({ breaking: [] }, null, 2) + "\n");
console.log(`wrote ${API_BASELINE_PATH} and emptied ${SCHEMA_CHANGELOG_PATH}`);
