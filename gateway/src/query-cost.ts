import {
  Kind,
  type FragmentDefinitionNode,
  type GraphQLAbstractType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

// Duck-typed, not graphql's isObjectType & co.: the schema the runtime validates against may come
// from graphql's other build (CommonJS), whose classes the ES module's checks reject.
const hasFields = (
  type: GraphQLNamedType,
): type is GraphQLNamedType & { getFields(): Record<string, GraphQLField<unknown, unknown>> } =>
  "getFields" in type &&
  !("getValues" in type) &&
  !("parseLiteral" in type) &&
  "getInterfaces" in type;
const isAbstract = (type: GraphQLNamedType): type is GraphQLAbstractType => "resolveType" in type;
const isComposite = (type: GraphQLNamedType): type is GraphQLCompositeType =>
  hasFields(type) || isAbstract(type);
const isObject = (type: GraphQLNamedType) => hasFields(type) && !isAbstract(type);
function namedTypeOf(type: GraphQLOutputType): GraphQLNamedType {
  let named: GraphQLOutputType = type;
  while ("ofType" in named && named.ofType) named = named.ofType as GraphQLOutputType;
  return named as GraphQLNamedType;
}

/** The weights graphql-armor uses, so limits keep their meaning: a leaf 1, an object 2, ×1.5 a level. */
export const COST_WEIGHTS = { scalar: 1, object: 2, depthFactor: 1.5 };

/**
 * The cost of an operation as it would run: each fragment counted at each place it is used, at
 * that place's depth (a fragment adds no level of its own), and where a selection branches on the
 * concrete type of an abstract field (`... on Book`, `... on Magazine`), only the costliest branch
 * counts — one object is one type. graphql-armor's cost counts a reused fragment again with an
 * extra factor, adds a level per fragment, and sums every branch, so legitimate six-level queries
 * with fragments on unions passed its limit.
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;

  const costOf = (
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    inFragments: ReadonlySet<string>,
  ): number => {
    let common = 0;
    /** Selections that apply only when the object is of the named type (or implements it). */
    const conditional: { type: GraphQLCompositeType; cost: number }[] = [];
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        // Introspection is governed by its own policy (schema:read), not by cost.
        if (name === "__schema" || name === "__type") continue;
        const field = hasFields(parent) ? parent.getFields()[name] : undefined;
        const type = field ? namedTypeOf(field.type) : undefined;
        common +=
          selection.selectionSet && type && isComposite(type)
            ? COST_WEIGHTS.object +
              COST_WEIGHTS.depthFactor * costOf(selection.selectionSet, type, inFragments)
            : COST_WEIGHTS.scalar;
        continue;
      }
      let set: SelectionSetNode;
      let condition: string | undefined;
      let path = inFragments;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        set = selection.selectionSet;
        condition = selection.typeCondition?.name.value;
      } else {
        const name = selection.name.value;
        const fragment = fragments[name];
        // A cycle is a validation error of its own; an unknown fragment too.
        if (!fragment || inFragments.has(name)) continue;
        set = fragment.selectionSet;
        condition = fragment.typeCondition.name.value;
        path = new Set([...inFragments, name]);
      }
      const type = condition ? schema.getType(condition) : parent;
      if (!type || !isComposite(type)) continue;
      const cost = costOf(set, type, path);
      if (type === parent || isObject(parent)) common += cost;
      else conditional.push({ type, cost });
    }
    if (conditional.length === 0 || !isAbstract(parent)) return common;
    // The costliest concrete type: what applies to it of every branch.
    let costliest = 0;
    for (const concrete of schema.getPossibleTypes(parent)) {
      let cost = 0;
      for (const branch of conditional)
        if (
          branch.type === concrete ||
          (isAbstract(branch.type) && schema.isSubType(branch.type, concrete))
        )
          cost += branch.cost;
      costliest = Math.max(costliest, cost);
    }
    return common + costliest;
  };

  return costOf(operation.selectionSet, root, new Set());
}
