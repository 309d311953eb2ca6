import { readFile } from "node:fs/promises";
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
} from "graphql";
import { describe, expect, it } from "vitest";
import { apiSchemaOf } from "./api-schema.js";
import { SUPERGRAPH_PATH } from "./paths.js";

/** The schema is documentation for analysts: everything they can see carries a description. */
describe("every type, field, argument and enum value of the supergraph has a description", () => {
  it("finds none missing", async () => {
    const schema = apiSchemaOf(await readFile(SUPERGRAPH_PATH, "utf8"));
    const roots = new Set([
      schema.getQueryType()?.name,
      schema.getMutationType()?.name,
      schema.getSubscriptionType()?.name,
    ]);
    const missing: string[] = [];
    const need = (what: string, description: string | null | undefined) => {
      if (!description?.trim()) missing.push(what);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
      // The root types are described field by field (TypeGraphQL cannot describe the root types).
      if (!roots.has(type.name)) need(type.name, type.description);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          need(`${type.name}.${field.name}`, field.description);
          for (const arg of field.args)
            need(`${type.name}.${field.name}(${arg.name})`, arg.description);
        }
      }
      if (isInputObjectType(type))
        for (const field of Object.values(type.getFields()))
          need(`${type.name}.${field.name}`, field.description);
      if (isEnumType(type))
        for (const value of type.getValues()) need(`${type.name}.${value.name}`, value.description);
    }
    expect(missing).toEqual([]);
  });
});
