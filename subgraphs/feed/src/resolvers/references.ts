/** A Card the feed names is resolved by the cards subgraph; here it is only its id. */
export const feedReferences = {
  Card: { __resolveReference: (reference: { id: string }) => ({ id: reference.id }) },
};
