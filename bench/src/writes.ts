import "reflect-metadata";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { composeIdNumber, mintDevToken, siblingUrl, type CommandStatsSnapshot } from "@hub/kit";
import { waitForOk } from "@hub/harness/processes";
import { percentiles, round, sum } from "./figures.js";
import { outboxLag, untilOutboxesEmpty } from "./outboxes.js";
import { cpuMs } from "./proc.js";
import { root, startBenchStack, type BenchStack } from "./stack.js";
import { costBetween, goalsFrom, type LoadResult, type SubgraphCost } from "./write-figures.js";

/**
 * `npm run bench:writes`: where a mutation's time goes, and the write path under load.
 *  1. per mutation: one of each kind at a time — latency, MongoDB commands per subgraph (the
 *     request's and the relay's), their time, and waits at the embedded server's transaction gate;
 *  2. the counter scenario (register → issue → collect → enable → report loss → withdraw → verify)
 *     by 1 and by 10 clients, with a reader asking PersonCards in the same run;
 *  3. the mutation mix (enable, verify, report loss, withdraw) sustained (BENCH_SUSTAIN s, 60):
 *     outbox lag sampled every 250 ms, and how long the outboxes take to empty after it;
 *  4. ageing: the mix's p50 on a fresh hub and after BENCH_AGEING_MUTATIONS (20,000) mutations.
 * Writes bench/results/<date>-writes.json. BENCH_WRITES_PARTS=per-mutation,scenario,... runs a part.
 */
const SCENARIO_SECONDS = Number(process.env["BENCH_DURATION"] ?? 15);
const SUSTAIN_SECONDS = Number(process.env["BENCH_SUSTAIN"] ?? 60);
const AGEING_MUTATIONS = Number(process.env["BENCH_AGEING_MUTATIONS"] ?? 20_000);
const MIX_SECONDS = 10;
const MIX_CLIENTS = 10;
const PARTS = (process.env["BENCH_WRITES_PARTS"] ?? "per-mutation,scenario,sustained,ageing").split(
  ",",
);

let stack = undefined as unknown as BenchStack;
/** Every process of the hub under test by name (gateway, subgraphs, database). */
let processes: Record<string, number> = {};
let gateway = "";
let counterToken = "";
let bankToken = "";
let serial = 0;

interface Answer {
  ms: number;
  data?: Record<string, Record<string, unknown>>;
  errors?: { message: string; extensions?: { code?: string } }[];
  extensions?: Record<string, unknown>;
}

async function call(operation: string, variables: unknown, token = counterToken): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(gateway, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: stack.document(operation), operationName: operation, variables }),
  });
  const body = (await response.json()) as Omit<Answer, "ms">;
  return { ms: performance.now() - started, ...body };
}

async function must(operation: string, variables: unknown, token?: string): Promise<Answer> {
  const answer = await call(operation, variables, token);
  if (answer.errors) throw new Error(`${operation}: ${JSON.stringify(answer.errors)}`);
  return answer;
}

/** A new identity number each call: the next sequence number, then the next birth date. */
function uniqueIdNumber(): string {
  const n = serial++;
  const born = new Date(Date.UTC(1960, 0, 1) + Math.floor(n / 998) * 86_400_000);
  return composeIdNumber(
    "110101",
    born.toISOString().slice(0, 10).replace(/-/g, ""),
    1 + (n % 998),
  );
}

async function newCard(): Promise<{ personId: string; cardId: string }> {
  const registered = await must("RegisterPerson", {
    input: { idNumber: uniqueIdNumber(), name: "压测人" },
  });
  const personId = String((registered.data!["registerPerson"]!["person"] as { id: string }).id);
  const issued = await must("IssueCard", {
    input: { personId, province: "44", issuingBank: "中国工商银行" },
  });
  const cardId = String((issued.data!["issueCard"]!["card"] as { id: string }).id);
  return { personId, cardId };
}

// ---------------------------------------------------------------- what the subgraphs report

async function stats(): Promise<Record<string, CommandStatsSnapshot>> {
  const entries = await Promise.all(
    Object.entries(stack.subgraphUrls).map(async ([name, url]) => [
      name,
      (await (await fetch(siblingUrl(url, "/dbstats"))).json()) as CommandStatsSnapshot,
    ]),
  );
  return Object.fromEntries(entries) as Record<string, CommandStatsSnapshot>;
}

const outboxes = () => outboxLag(stack.subgraphUrls);

/** Milliseconds until every outbox is empty (polled every 50 ms), or null after `timeoutMs`. */
const drained = (timeoutMs = 60_000) => untilOutboxesEmpty(stack.subgraphUrls, timeoutMs, 50);

// ---------------------------------------------------------------- 1. one mutation at a time

interface MutationKind {
  name: string;
  /** Set-up outside the measurement; returns the variables of the measured call. */
  prepare: () => Promise<unknown>;
  token?: () => string;
}

const key = () => `w-${serial++}`;
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
    prepare: async () => {
      const { cardId } = await newCard();
      await must("CollectCard", { input: { cardId } });
      return { input: { cardId, idempotencyKey: key() } };
    },
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
    token: () => bankToken,
    prepare: async () => {
      const { cardId } = await newCard();
      await must("CollectCard", { input: { cardId } });
      return { input: { cardId, idempotencyKey: key() } };
    },
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

async function perMutation(repetitions = 5) {
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

// ---------------------------------------------------------------- 2–4. under load

const CARD_MUTATIONS = new Set([
  "IssueCard",
  "CollectCard",
  "EnableSocialSecurityFunction",
  "ReportCardLoss",
  "WithdrawLossReport",
]);

/** Runs `clients` loops of `steps` (plus one PersonCards reader) for `seconds` or `mutations`. */
async function underLoad(
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
    Object.entries(processes).map(([n, pid]) => [n, cpuMs(pid)]),
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
    const bodies = stack.bodies("PersonCardsVaried");
    while (!stop()) {
      const t = performance.now();
      const response = await fetch(gateway, {
        method: "POST",
        headers: stack.headers,
        body: bodies(),
      });
      const body = (await response.json()) as Omit<Answer, "ms">;
      record("PersonCards", { ms: performance.now() - t, ...body });
    }
  })();
  await Promise.all([...Array.from({ length: clients }, () => loop(record, stop)), reader]);
  const seconds = (performance.now() - started) / 1000;
  const cpuMsPerMutation = Object.fromEntries(
    Object.entries(processes).map(([n, pid]) => [
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
function scenario(record: (operation: string, answer: Answer) => void, stop: () => boolean) {
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
function mixOn(cards: string[]) {
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

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  stack = await startBenchStack({ prefix: "writes", firstPort: 4521, personCount: 120 });
  const gatewayProcess = stack.startOurGateway(4620);
  await waitForOk("http://127.0.0.1:4620/healthz", 60_000, gatewayProcess);
  gateway = "http://127.0.0.1:4620/graphql";
  processes = { gateway: gatewayProcess.pid!, ...stack.pids };
  counterToken = stack.token;
  bankToken = await mintDevToken(stack.secret, {
    sub: "bench-bank",
    channel: "BANK_COUNTER",
    expiresIn: "2h",
  });
  const passwordCards = new Set(stack.demo.cardPasswords.map((p) => p._id));
  const mixCards = stack.demo.cards
    .filter((c) => c.status === "NORMAL" && !passwordCards.has(c._id))
    .map((c) => c._id)
    .slice(0, MIX_CLIENTS);

  const results: Record<string, unknown> = {};
  // The ageing part measures a fresh hub first: before anything else writes.
  if (PARTS.includes("ageing")) {
    results["mixFresh"] = await underLoad(MIX_CLIENTS, mixOn(mixCards), { seconds: MIX_SECONDS });
    console.log("mix on a fresh hub", results["mixFresh"]);
  }
  if (PARTS.includes("per-mutation")) results["perMutation"] = await perMutation();
  if (PARTS.includes("scenario")) {
    for (const clients of [1, 10]) {
      results[`scenario${clients}`] = await underLoad(clients, scenario, {
        seconds: SCENARIO_SECONDS,
      });
      console.log(`scenario, ${clients} client(s)`, results[`scenario${clients}`]);
    }
  }
  let mixMutations = (results["mixFresh"] as LoadResult | undefined)?.mutations ?? 0;
  if (PARTS.includes("sustained")) {
    const sustained = await underLoad(MIX_CLIENTS, mixOn(mixCards), { seconds: SUSTAIN_SECONDS });
    results["sustained"] = sustained;
    mixMutations += sustained.mutations;
    console.log("sustained mix", sustained);
  }
  if (PARTS.includes("ageing")) {
    if (mixMutations < AGEING_MUTATIONS) {
      const more = await underLoad(MIX_CLIENTS, mixOn(mixCards), {
        mutations: AGEING_MUTATIONS - mixMutations,
      });
      mixMutations += more.mutations;
      console.log("ageing load", more);
    }
    const aged = await underLoad(MIX_CLIENTS, mixOn(mixCards), { seconds: MIX_SECONDS });
    results["mixAged"] = { ...aged, afterMutations: mixMutations };
    console.log(`mix after ${mixMutations} mutations`, aged);
  }

  const goals = goalsFrom(results);
  const output = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    settings: {
      scenarioSeconds: SCENARIO_SECONDS,
      sustainSeconds: SUSTAIN_SECONDS,
      ageingMutations: AGEING_MUTATIONS,
      parts: PARTS,
    },
    goals,
    results,
  };
  await mkdir(join(root, "bench", "results"), { recursive: true });
  // BENCH_WRITES_NAME names the run (before/after a change): committed results stay as they are.
  const name = process.env["BENCH_WRITES_NAME"];
  const file = join(
    root,
    "bench",
    "results",
    `${output.date.slice(0, 10)}-writes${name ? `-${name}` : ""}.json`,
  );
  await writeFile(file, JSON.stringify(output, null, 2) + "\n");
  console.log(JSON.stringify({ goals }, null, 2));
  console.log(`written to ${file}`);
}

try {
  await main();
} finally {
  await (stack as BenchStack | undefined)?.stop();
}
