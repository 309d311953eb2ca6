import type { Db } from "mongodb";
import { SUBGRAPH_NAMES } from "@hub/kit";
import { cardFacts } from "./card-histories.js";
import { historyInvariants } from "./history-invariants.js";
import { result, type InvariantResult } from "./invariant-result.js";
import { knownEverywhere } from "./known-everywhere.js";
import type { Kill } from "./killer.js";
import type { Ledger } from "./ledger.js";
import { mirrorInvariants } from "./mirror-invariants.js";
import type { Pending } from "./pending-events.js";

// run.ts imports these from here: the end-of-run checks and how the run waits for delivery.
export type { InvariantResult } from "./invariant-result.js";
export { databases, pendingEvents, waitForDrain, type Pending } from "./pending-events.js";

export async function checkInvariants(options: {
  dbs: Map<string, Db>;
  ledger: Ledger;
  pending: Pending;
  kills: Kill[];
  clients: number;
  minKills: number;
  replicasReady: Record<string, boolean>;
}): Promise<InvariantResult[]> {
  const { dbs, ledger } = options;
  const facts = await cardFacts(dbs, ledger);
  const results: InvariantResult[] = [];

  results.push(
    result(
      "outboxes drained",
      SUBGRAPH_NAMES.length,
      Object.keys(options.pending.outbox)
        .filter((n) => options.pending.outbox[n] || options.pending.carried[n])
        .map((n) => ({
          database: n,
          outbox: options.pending.outbox[n],
          carried: options.pending.carried[n],
        })),
    ),
  );

  // Counting a collection that does not exist answers 0: no need to know whether the relay
  // dead-letters yet.
  const deadLetters: unknown[] = [];
  for (const [name, database] of dbs) {
    const count = await database.collection("dead_letters").countDocuments({});
    if (count > 0)
      deadLetters.push({
        database: name,
        count,
        first: await database.collection("dead_letters").find({}).limit(3).toArray(),
      });
  }
  results.push(result("no dead letters", dbs.size, deadLetters));

  results.push(...mirrorInvariants(facts));
  results.push(...(await knownEverywhere(facts)));
  results.push(...historyInvariants(facts));

  const failed = ledger.totals().failed + ledger.totals().partial;
  const allowed = options.clients * options.kills.length;
  results.push(
    result(
      "failed requests ≤ one per client per kill",
      ledger.totals().requests,
      failed > allowed
        ? [{ failed, allowed, clients: options.clients, kills: options.kills.length }]
        : [],
      `${failed} failed of ${ledger.totals().requests}; allowed ${allowed}`,
    ),
  );

  const killed = new Set(options.kills.map((k) => k.service));
  const chaos: unknown[] = [];
  if (options.kills.length < options.minKills)
    chaos.push({ kills: options.kills.length, wanted: options.minKills });
  for (const name of SUBGRAPH_NAMES) if (!killed.has(name)) chaos.push({ neverKilled: name });
  for (const [replica, ready] of Object.entries(options.replicasReady))
    if (!ready) chaos.push({ notReadyAtEnd: replica });
  for (const kill of options.kills)
    if (kill.foundDead || kill.restartFailed) chaos.push({ badKill: kill });
  results.push(
    result(
      "chaos applied, every replica back",
      options.kills.length,
      chaos,
      `${options.kills.length} kills: ${[...killed].join(", ")}`,
    ),
  );
  return results;
}
