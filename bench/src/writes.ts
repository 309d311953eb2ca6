import "reflect-metadata";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { mintDevToken } from "@hub/kit";
import { waitForOk } from "@hub/harness/processes";
import { root, startBenchStack, type BenchStack } from "./stack.js";
import { hub } from "./write-client.js";
import { goalsFrom, type LoadResult } from "./write-figures.js";
import { mixOn, scenario, underLoad } from "./write-load.js";
import { perMutation } from "./write-mutation-kinds.js";

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

async function main(): Promise<void> {
  hub.stack = await startBenchStack({ prefix: "writes", firstPort: 4521, personCount: 120 });
  const gatewayProcess = hub.stack.startOurGateway(4620);
  await waitForOk("http://127.0.0.1:4620/healthz", 60_000, gatewayProcess);
  hub.gateway = "http://127.0.0.1:4620/graphql";
  hub.processes = { gateway: gatewayProcess.pid!, ...hub.stack.pids };
  hub.counterToken = hub.stack.token;
  hub.bankToken = await mintDevToken(hub.stack.secret, {
    sub: "bench-bank",
    channel: "BANK_COUNTER",
    expiresIn: "2h",
  });
  const passwordCards = new Set(hub.stack.demo.cardPasswords.map((p) => p._id));
  const mixCards = hub.stack.demo.cards
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
  await (hub.stack as BenchStack | undefined)?.stop();
}
