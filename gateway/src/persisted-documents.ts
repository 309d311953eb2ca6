import { createHash } from "node:crypto";
import type { NamedOperation } from "./sandbox/contract-operations.js";

export interface PersistedDocument {
  name: string;
  /** sha256 (hex) of `document`: what clients send as `extensions.persistedQuery.sha256Hash` or `documentId`. */
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
