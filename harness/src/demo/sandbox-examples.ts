import type { DemoData } from "./demo-data-types.js";

/** Example variables for the sandbox's tabs (the contract's queries), from the showcase persons. */
export function sandboxExamples(data: DemoData): Record<string, Record<string, unknown>> {
  const duplicates = data.persons.find((p) => p._id === data.showcase.duplicates);
  return {
    PersonCards: { idNumber: duplicates?.idNumber },
    PersonById: { id: data.showcase.replaced },
    PersonsByIds: { ids: data.persons.slice(0, 10).map((p) => p._id) },
    CardHistory: { cardId: data.cards.find((c) => c.personId === data.showcase.replaced)?._id },
  };
}
