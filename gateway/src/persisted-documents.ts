import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { NamedOperation } from "./sandbox/contract-operations.js";

export interface PersistedDocument {
  name: string;
  /**
   * What clients send as `extensions.persistedQuery.sha256Hash` or `documentId`: the sha256 (hex)
   * of `document` for the contract's operations, the manifest's id for a manifest's.
   */
  hash: string;
  document: string;
}

export function persistedDocumentsOf(operations: readonly NamedOperation[]): PersistedDocument[] {
  return operations.map((op) => ({
    name: op.name,
    hash: createHash("sha256").update(op.document).digest("hex"),
    document: op.document,
  }));
}

/** Apollo's persisted query manifest (`@apollo/generate-persisted-query-manifest`), version 1. */
const manifestSchema = z.object({
  format: z.literal("apollo-persisted-query-manifest"),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string(),
      type: z.enum(["query", "mutation", "subscription"]),
      body: z.string().min(1),
    }),
  ),
});

export type PersistedQueryManifest = z.infer<typeof manifestSchema>;

/** The contract's operations as an Apollo persisted query manifest (schema/persisted-query-manifest.json). */
export function manifestOf(operations: readonly NamedOperation[]): PersistedQueryManifest {
  const documents = persistedDocumentsOf(operations);
  return {
    format: "apollo-persisted-query-manifest",
    version: 1,
    operations: operations.map((op, i) => ({
      id: documents[i]!.hash,
      name: op.name,
      type: op.kind,
      body: op.document,
    })),
  };
}

/**
 * The trusted documents of the manifests named by HUB_PERSISTED_MANIFESTS: each entry a manifest
 * file or a directory of `*.json` manifests. A file that is not a valid manifest stops the gateway
 * at start, naming it.
 */
export async function loadManifests(paths: readonly string[]): Promise<PersistedDocument[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new Error(`HUB_PERSISTED_MANIFESTS: ${path} does not exist`);
    if (info.isDirectory())
      files.push(
        ...(await readdir(path))
          .filter((name) => name.endsWith(".json"))
          .sort()
          .map((name) => join(path, name)),
      );
    else files.push(path);
  }
  const documents: PersistedDocument[] = [];
  for (const file of files) {
    let parsed: PersistedQueryManifest;
    try {
      parsed = manifestSchema.parse(JSON.parse(await readFile(file, "utf8")));
    } catch (error) {
      const reason = error instanceof z.ZodError ? error.issues[0]?.message : String(error);
      throw new Error(
        `HUB_PERSISTED_MANIFESTS: ${file} is not an apollo-persisted-query-manifest (version 1): ${reason}`,
      );
    }
    for (const op of parsed.operations)
      documents.push({ name: op.name, hash: op.id, document: op.body });
  }
  return documents;
}
