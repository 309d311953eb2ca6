import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { CriticalityLevel, diff, type Change } from "@graphql-inspector/core";
import { lexicographicSortSchema, printSchema } from "graphql";
import { z } from "zod";
import { apiSchemaOf } from "./api-schema.js";
import { API_BASELINE_PATH, SCHEMA_CHANGELOG_PATH, SUPERGRAPH_PATH } from "./paths.js";

/**
 * Breaking changes a release accepts, each named as graphql-inspector names it (its `path`, or its
 * message when it has none), with the reason channels were told.
 */
const changelogSchema = z.object({
  breaking: z.array(
    z.object({
      change: z.string().min(1),
      reason: z.string().min(1),
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    }),
  ),
});
export type SchemaChangelog = z.infer<typeof changelogSchema>;

/** The API schema clients see, printed the same way every time (sorted). */
export function printApiSchema(supergraphSdl: string): string {
  return printSchema(lexicographicSortSchema(apiSchemaOf(supergraphSdl))) + "\n";
}

const nameOf = (change: Change) => change.path ?? change.message;

/**
 * graphql-inspector checks schema classes against the graphql it loads itself (the CommonJS build,
 * as Node resolves it); schemas built by the ES module build would be "from another realm".
 */
const { buildSchema } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

/**
 * The breaking changes from `baselineSdl` (the API as last released) to `currentSdl` that the
 * changelog does not record. Additions and other safe changes never appear here.
 */
export async function unrecordedBreakingChanges(
  baselineSdl: string,
  currentSdl: string,
  changelog: SchemaChangelog,
): Promise<Change[]> {
  const recorded = new Set(changelog.breaking.map((entry) => entry.change));
  const changes = await diff(buildSchema(baselineSdl), buildSchema(currentSdl));
  return changes.filter(
    (change) =>
      change.criticality.level === CriticalityLevel.Breaking && !recorded.has(nameOf(change)),
  );
}

/** The checked-in baseline, changelog and supergraph, compared. */
export async function checkApiAgainstBaseline(): Promise<Change[]> {
  const [baseline, supergraph, changelog] = await Promise.all([
    readFile(API_BASELINE_PATH, "utf8"),
    readFile(SUPERGRAPH_PATH, "utf8"),
    readFile(SCHEMA_CHANGELOG_PATH, "utf8"),
  ]);
  return unrecordedBreakingChanges(
    baseline,
    printApiSchema(supergraph),
    changelogSchema.parse(JSON.parse(changelog)),
  );
}

export { nameOf as breakingChangeName };
