/**
 * Any card or person id is a valid reference here: without a stored record a card has its initial
 * password and a person has no electronic-card password yet.
 */
export const passwordsReferences = {
  Card: { __resolveReference: (reference: { id: string }) => ({ id: reference.id }) },
  Person: { __resolveReference: (reference: { id: string }) => ({ id: reference.id }) },
};
