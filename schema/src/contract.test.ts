import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, validate, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { apiSchemaOf } from "./api-schema.js";
import { SCHEMA_DIR, SUPERGRAPH_PATH } from "./paths.js";

/** The contract as published beside the project; schema/operations.graphql is our checked-in copy. */
const SHARED_CONTRACT = join(SCHEMA_DIR, "..", "..", "shared", "contract", "operations.graphql");
const COPY = join(SCHEMA_DIR, "operations.graphql");

async function operations() {
  const document = parse(await readFile(COPY, "utf8"));
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === "OperationDefinition")
    .map((operation) => ({
      name: operation.name?.value ?? "",
      kind: operation.operation,
      document: { ...document, definitions: [operation] },
    }));
}

describe("the contract's operations validate against schema/supergraph.graphql", () => {
  it.runIf(existsSync(SHARED_CONTRACT))(
    "schema/operations.graphql is the published contract, unchanged",
    async () => {
      expect(await readFile(COPY, "utf8")).toBe(await readFile(SHARED_CONTRACT, "utf8"));
    },
  );

  it("every query document validates", async () => {
    const schema = apiSchemaOf(await readFile(SUPERGRAPH_PATH, "utf8"));
    const queries = (await operations()).filter((op) => op.kind === "query");
    expect(queries.map((q) => q.name)).toEqual([
      "PersonCards",
      "PersonById",
      "PersonsByIds",
      "CardHistory",
    ]);
    for (const query of queries)
      expect(
        validate(schema, query.document).map((e) => e.message),
        query.name,
      ).toEqual([]);
  });

  it("every mutation document validates", async () => {
    const schema = apiSchemaOf(await readFile(SUPERGRAPH_PATH, "utf8"));
    const mutations = (await operations()).filter((op) => op.kind === "mutation");
    expect(mutations).toHaveLength(16);
    for (const mutation of mutations)
      expect(
        validate(schema, mutation.document).map((e) => e.message),
        mutation.name,
      ).toEqual([]);
  });
});
