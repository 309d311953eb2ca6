import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import {
  buildSchema,
  Kind,
  parse,
  validate,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import { DEFAULT_QUERY_LIMITS } from "./plugins/query-limits.plugin.js";
import { operationCost } from "./query-cost.js";

/** The federation audit's `abstract-types` supergraph, as far as its queries 16 and 17 reach. */
const schema = buildSchema(/* GraphQL */ `
  type Query {
    products: [Product]
  }
  interface Product {
    id: ID!
    reviews: [Review]
  }
  type Book implements Product {
    id: ID!
    reviews: [Review]
    publisherType: PublisherType
  }
  type Magazine implements Product {
    id: ID!
    reviews: [Review]
    publisherType: PublisherType
  }
  type Review {
    id: ID!
    product: Product
  }
  union PublisherType = Agency | Self | Group
  type Agency {
    id: ID!
    companyName: String
  }
  type Self {
    email: String
  }
  type Group {
    name: String
  }
`);

/** Audit case 17 (case 16 is the same without `... on Group`). */
const auditQuery = `{
  products { id reviews { product { id
    ... on Magazine { publisherType { ...Publisher } }
    ... on Book { publisherType { ...Publisher } }
  } } }
}
fragment Publisher on PublisherType {
  ... on Agency { id companyName }
  ... on Self { email }
  ... on Group { name }
}`;

function costOf(query: string): number {
  const document = parse(query);
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )!;
  return operationCost(schema, operation, fragments);
}

/** What graphql-armor's cost rule (as the hub configured it before) says about a query. */
function armorRejects(query: string): boolean {
  let rejected = false;
  validate(schema, parse(query), [
    costLimitRule({
      maxCost: DEFAULT_QUERY_LIMITS.maxCost,
      propagateOnRejection: false,
      onReject: [() => (rejected = true)],
    }),
  ]);
  return rejected;
}

describe("query cost", () => {
  it("the federation audit's abstract-types queries (16, 17) are within the limit; graphql-armor's cost refused them", () => {
    expect(costOf(auditQuery)).toBeLessThanOrEqual(DEFAULT_QUERY_LIMITS.maxCost);
    expect(costOf(auditQuery.replace("... on Group { name }", ""))).toBeLessThanOrEqual(
      DEFAULT_QUERY_LIMITS.maxCost,
    );
    expect(armorRejects(auditQuery)).toBe(true);
  });

  it("a fragment costs what its fields cost at the place it is used, each time it is used", () => {
    const inline = `{ products { id reviews { id product { id } } } }`;
    const withFragments = `{ products { ...P } } fragment P on Product { id reviews { ...R } } fragment R on Review { id product { id } }`;
    expect(costOf(withFragments)).toBe(costOf(inline));
    const twice = `{ a: products { ...P } b: products { ...P } } fragment P on Product { id reviews { id } }`;
    expect(costOf(twice)).toBe(2 * costOf(`{ products { id reviews { id } } }`));
  });

  it("branches on an abstract type: only the costliest applies to one object; a branch on the object's own type always applies", () => {
    const oneBranch = `{ products { ... on Book { publisherType { ... on Agency { id companyName } } } } }`;
    const twoBranches = `{ products { ... on Book { publisherType { ... on Agency { id companyName } } } ... on Magazine { id } } }`;
    expect(costOf(twoBranches)).toBe(costOf(oneBranch));
    const onSelf = `{ products { id ... on Product { reviews { id } } } }`;
    expect(costOf(onSelf)).toBe(costOf(`{ products { id reviews { id } } }`));
  });

  it("nesting still costs more, level by level", () => {
    let selection = "id";
    const costs: number[] = [];
    for (let depth = 0; depth < 8; depth++) {
      selection = `reviews { product { ${selection} } }`;
      costs.push(costOf(`{ products { ${selection} } }`));
    }
    for (let i = 1; i < costs.length; i++) expect(costs[i]).toBeGreaterThan(costs[i - 1]! * 2);
    expect(costs.at(-1)).toBeGreaterThan(DEFAULT_QUERY_LIMITS.maxCost);
  });
});
