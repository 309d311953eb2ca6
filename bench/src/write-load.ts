import { percentiles, round, sum } from "./figures.js";
import { cpuMs } from "./proc.js";
import type { LoadResult } from "./write-figures.js";
import { call, drained, hub, key, outboxes, uniqueIdNumber, type Answer } from "./write-client.js";

// Parts 2–4 of `npm run bench:writes`: the write path under load (the counter scenario, the mix).

const CARD_MUTATIONS = new Set([
  "IssueCard",
  "CollectCard",
  "EnableSocialSecurityFunction",
  "ReportCardLoss",
  "WithdrawLossReport",
]);

/** Runs `clients` loops of `steps` (plus one PersonCards reader) for `seconds` or `mutations`. */
export async function underLoad(
  clients: number,
  loop: (record: (operation: string, answer: Answer) => void, stop: () => boolean) => Promise<void>,
  until: { seconds?: number; mutations?: number },
): Promise<LoadResult> {
  const latencies = new Map<string, number[]>();
  const errors: Record<string, number> = {};
  let mutations = 0;
  const record = (operation: string, answer: Answer) => {
    if (answer.errors) {
      const code = `${operation}: ${answer.errors[0]?.extensions?.code ?? "?"}`;
      errors[code] = (errors[code] ?? 0) + 1;
    }
    (latencies.get(operation) ?? latencies.set(operation, []).get(operation)!).push(answer.ms);
    if (operation !== "PersonCards") mutations += 1;
  };
  const cpuBefore = Object.fromEntries(
    Object.entries(hub.processes).map(([n, pid]) => [n, cpuMs(pid)]),
  );
  const started = performance.now();
  const deadline = until.seconds ? started + until.seconds * 1000 : Infinity;
  const stop = () =>
    performance.now() >= deadline ||
    (until.mutations !== undefined && mutations >= until.mutations);
  const lag = { maxOldestPendingMs: 0, maxPending: 0, samples: 0 };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = await outboxes();
      lag.maxOldestPendingMs = Math.max(lag.maxOldestPendingMs, now.oldestPendingMs);
      lag.maxPending = Math.max(lag.maxPending, now.pending);
      lag.samples += 1;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const reader = (async () => {
    const bodies = hub.stack.bodies("PersonCardsVaried");
    while (!stop()) {
      const t = performance.now();
      const response = await fetch(hub.gateway, {
        method: "POST",
        headers: hub.stack.headers,
        body: bodies(),
      });
      const body = (await response.json()) as Omit<Answer, "ms">;
      record("PersonCards", { ms: performance.now() - t, ...body });
    }
  })();
  await Promise.all([...Array.from({ length: clients }, () => loop(record, stop)), reader]);
  const seconds = (performance.now() - started) / 1000;
  const cpuMsPerMutation = Object.fromEntries(
    Object.entries(hub.processes).map(([n, pid]) => [
      n,
      round((cpuMs(pid) - cpuBefore[n]!) / Math.max(1, mutations)),
    ]),
  );
  cpuMsPerMutation["whole hub"] = round(sum(Object.values(cpuMsPerMutation)));
  sampling = false;
  await sampler;
  const drainedAfterMs = await drained(30_000);
  const of = (names: (n: string) => boolean) =>
    [...latencies.entries()].filter(([n]) => names(n)).flatMap(([, l]) => l);
  const card = of((n) => CARD_MUTATIONS.has(n));
  const all = of((n) => n !== "PersonCards");
  const reads = of((n) => n === "PersonCards");
  return {
    seconds: round(seconds),
    mutations,
    mutationsPerSecond: round(mutations / seconds),
    cardMutation: percentiles(card),
    allMutations: percentiles(all),
    personCards: { ...percentiles(reads), requests: reads.length },
    errors,
    cpuMsPerMutation,
    lag,
    drainedAfterMs,
  };
}

/** The counter scenario, one person after another. */
export function scenario(record: (operation: string, answer: Answer) => void, stop: () => boolean) {
  return (async () => {
    while (!stop()) {
      const step = async (operation: string, input: Record<string, unknown>) => {
        const answer = await call(operation, { input });
        record(operation, answer);
        if (answer.errors) throw new Error(`${operation}: ${JSON.stringify(answer.errors)}`);
        return answer;
      };
      try {
        const registered = await step("RegisterPerson", {
          idNumber: uniqueIdNumber(),
          name: "压测人",
        });
        const personId = (registered.data!["registerPerson"]!["person"] as { id: string }).id;
        const issued = await step("IssueCard", {
          personId,
          province: "44",
          issuingBank: "中国工商银行",
          idempotencyKey: key(),
        });
        const cardId = (issued.data!["issueCard"]!["card"] as { id: string }).id;
        await step("CollectCard", { cardId, idempotencyKey: key() });
        await step("EnableSocialSecurityFunction", { cardId, idempotencyKey: key() });
        await step("ReportCardLoss", { cardId, temporary: true, idempotencyKey: key() });
        await step("WithdrawLossReport", { cardId, idempotencyKey: key() });
        await step("VerifyCardPassword", { cardId, password: "123456" });
      } catch {
        // Counted by `record`; the client starts over with a new person.
      }
    }
  })();
}

/** The bench's mutation mix on one demo card per client (no new persons or cards). */
export function mixOn(cards: string[]) {
  let next = 0;
  return (record: (operation: string, answer: Answer) => void, stop: () => boolean) =>
    (async () => {
      const cardId = cards[next++ % cards.length]!;
      while (!stop()) {
        for (const [operation, input] of [
          ["EnableSocialSecurityFunction", { cardId, idempotencyKey: key() }],
          ["VerifyCardPassword", { cardId, password: "123456" }],
          ["ReportCardLoss", { cardId, temporary: true, idempotencyKey: key() }],
          ["WithdrawLossReport", { cardId, idempotencyKey: key() }],
        ] as const) {
          record(operation, await call(operation, { input }));
        }
      }
    })();
}
