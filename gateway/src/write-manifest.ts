import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { manifestOf } from "./persisted-documents.js";
import { splitOperations } from "./sandbox/contract-operations.js";

/** The contract's operations and their persisted ids, as clients' tooling reads them. */
export const MANIFEST_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "schema",
  "persisted-query-manifest.json",
);

/** The manifest as it must be checked in: from schema/operations.graphql and feed.graphql. */
export async function contractManifest(): Promise<string> {
  const operations = [];
  for (const file of ["operations.graphql", "feed.graphql"])
    operations.push(...splitOperations(await readFile(join(dirname(MANIFEST_PATH), file), "utf8")));
  return JSON.stringify(manifestOf(operations), null, 2) + "\n";
}

// `npm run compose` (root): regenerates schema/persisted-query-manifest.json.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(MANIFEST_PATH, await contractManifest());
  console.log(`wrote ${MANIFEST_PATH}`);
}
