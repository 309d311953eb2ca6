import { percentiles, round, sum } from "./figures.js";
import { costBetween, type SubgraphCost } from "./write-figures.js";
import { drained, hub, key, must, newCard, stats, uniqueIdNumber } from "./write-client.js";

// Part 1 of `npm run bench:writes`: one mutation of each kind at a time, and what each costs.

interface MutationKind {
  name: string;
  /** Set-up outside the measurement; returns the variables of the measured call. */
  prepare: () => Promise<unknown>;
  token?: () => string;
}

/** A new card, collected (enabling and bank activation need one): the measured call's variables. */
async function collectedCardInput(): Promise<unknown> {
  const { cardId } = await newCard();
  await must("CollectCard", { input: { cardId } });
  return { input: { cardId, idempotencyKey: key() } };
}

const mutationKinds: MutationKind[] = [
  {
    name: "RegisterPerson",
    prepare: async () => ({
      input: { idNumber: uniqueIdNumber(), name: "压测人", idempotencyKey: key() },
    }),
  },
  {
    name: "IssueCard",
    prepare: async () => {
      const registered = await must("RegisterPerson", {
        input: { idNumber: uniqueIdNumber(), name: "压测人" },
      });
      const personId = (registered.data!["registerPerson"]!["person"] as { id: string }).id;
      return {
        input: { personId, province: "44", issuingBank: "中国工商银行", idempotencyKey: key() },
      };
    },
  },
  {
    name: "CollectCard",
    prepare: async () => ({ input: { cardId: (await newCard()).cardId, idempotencyKey: key() } }),
  },
  {
    name: "EnableSocialSecurityFunction",
    prepare: collectedCardInput,
  },
  {
    name: "ReportCardLoss",
    prepare: async () => ({
      input: { cardId: (await newCard()).cardId, temporary: true, idempotencyKey: key() },
    }),
  },
  {
    name: "WithdrawLossReport",
    prepare: async () => {
      const { cardId } = await newCard();
      await must("ReportCardLoss", { input: { cardId, temporary: true } });
      return { input: { cardId, idempotencyKey: key() } };
    },
  },
  {
    name: "VerifyCardPassword",
    prepare: async () => ({ input: { cardId: (await newCard()).cardId, password: "123456" } }),
  },
  {
    name: "ChangeCardPassword",
    prepare: async () => ({
      input: { cardId: (await newCard()).cardId, currentPassword: "123456", newPassword: "802731" },
    }),
  },
  {
    name: "ActivateFinancialFunction",
    token: () => hub.bankToken,
    prepare: collectedCardInput,
  },
  {
    name: "CancelCard",
    prepare: async () => ({
      input: { cardId: (await newCard()).cardId, reason: "bench", idempotencyKey: key() },
    }),
  },
  {
    name: "ReplaceCard",
    prepare: async () => ({
      input: { cardId: (await newCard()).cardId, reason: "STAINED", idempotencyKey: key() },
    }),
  },
];

export async function perMutation(repetitions = 5) {
  const rows: Record<string, unknown>[] = [];
  for (const kind of mutationKinds) {
    const latencies: number[] = [];
    let cost: Record<string, SubgraphCost> = {};
    let effectsAfterAnswerMs = 0;
    for (let i = 0; i < repetitions; i++) {
      const variables = await kind.prepare();
      await drained();
      const before = await stats();
      const answer = await must(kind.name, variables, kind.token?.());
      effectsAfterAnswerMs = Math.max(effectsAfterAnswerMs, (await drained()) ?? -1);
      latencies.push(answer.ms);
      // The last repetition's costs (the first ones warm up code paths and connections).
      cost = costBetween(before, await stats());
    }
    rows.push({
      mutation: kind.name,
      p50Ms: percentiles(latencies).p50,
      commands: sum(Object.values(cost).map((c) => c.requestCommands + c.relayCommands)),
      requestCommands: sum(Object.values(cost).map((c) => c.requestCommands)),
      relayCommands: sum(Object.values(cost).map((c) => c.relayCommands)),
      dbMs: round(sum(Object.values(cost).map((c) => c.dbMs))),
      gateWaitMs: sum(Object.values(cost).map((c) => c.gateWaitMs)),
      effectsAfterAnswerMs,
      bySubgraph: cost,
    });
    console.log(`per mutation: ${kind.name} p50 ${percentiles(latencies).p50} ms`);
  }
  return rows;
}
