import type { Workload } from "./load.js";
import type { BenchStack } from "./stack.js";

/**
 * `npm run bench`'s mutation mix (enable, verify password, report loss, withdraw) on demo cards
 * with the initial password: each connection keeps its own card for a whole run, `rewind()` hands
 * them out again from the first, and `resetCards()` brings every card back to NORMAL.
 */
export function mutationMix(stack: BenchStack, connections: number) {
  const doc = (name: string) => stack.document(name);
  const demo = stack.demo;
  // Cards in use without a password record: the initial password (123456) verifies.
  const passwordCards = new Set(demo.cardPasswords.map((p) => p._id));
  const usable = demo.cards
    .filter((c) => c.status === "NORMAL" && !passwordCards.has(c._id))
    .map((c) => c._id);
  if (usable.length < connections)
    throw new Error(
      `the mutation mix needs ${connections} cards with the initial password, the demo data has ${usable.length}`,
    );
  let cardCursor = 0;
  let key = 0;
  const mutationSteps = [
    (cardId: string) => ({
      query: doc("EnableSocialSecurityFunction"),
      operationName: "EnableSocialSecurityFunction",
      variables: { input: { cardId, idempotencyKey: `b-${key++}` } },
    }),
    (cardId: string) => ({
      query: doc("VerifyCardPassword"),
      operationName: "VerifyCardPassword",
      variables: { input: { cardId, password: "123456" } },
    }),
    (cardId: string) => ({
      query: doc("ReportCardLoss"),
      operationName: "ReportCardLoss",
      variables: { input: { cardId, temporary: true, idempotencyKey: `b-${key++}` } },
    }),
    (cardId: string) => ({
      query: doc("WithdrawLossReport"),
      operationName: "WithdrawLossReport",
      variables: { input: { cardId, idempotencyKey: `b-${key++}` } },
    }),
  ];
  const workload: Workload = {
    name: "mutation mix (enable, verify password, report loss, withdraw)",
    cycle: mutationSteps.length,
    body: (context, index) => {
      context["card"] ??= usable[cardCursor++ % usable.length];
      return JSON.stringify(mutationSteps[index]!(String(context["card"])));
    },
  };
  return {
    workload,
    rewind: () => {
      cardCursor = 0;
    },
    /**
     * Every card the mutation mix uses starts from NORMAL (a run may stop between loss and
     * withdrawal).
     */
    resetCards: async (url: string) => {
      for (const cardId of usable) {
        await fetch(url, {
          method: "POST",
          headers: stack.headers,
          body: JSON.stringify({
            query: doc("WithdrawLossReport"),
            variables: { input: { cardId } },
          }),
        });
      }
    },
  };
}
