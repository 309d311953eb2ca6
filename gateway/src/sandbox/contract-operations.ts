import { parse, print, type DefinitionNode, type OperationDefinitionNode } from "graphql";

export interface NamedOperation {
  name: string;
  kind: "query" | "mutation" | "subscription";
  document: string;
}

/** Splits the contract's operations file into one printable document per named operation. */
export function splitOperations(source: string): NamedOperation[] {
  const definitions = parse(source).definitions;
  const fragments = definitions.filter((d: DefinitionNode) => d.kind === "FragmentDefinition");
  return definitions
    .filter(
      (d): d is OperationDefinitionNode => d.kind === "OperationDefinition" && Boolean(d.name),
    )
    .map((operation) => ({
      name: operation.name?.value ?? "",
      kind: operation.operation,
      document: print({ kind: "Document" as never, definitions: [operation, ...fragments] }),
    }));
}
