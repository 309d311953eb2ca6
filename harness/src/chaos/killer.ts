import { SUBGRAPHS } from "@hub/kit";
import type { ReplicaTopology } from "../replica-topology.js";

export interface Kill {
  /** Since the clients started. */
  atMs: number;
  replica: string;
  service: string;
  /** From SIGKILL to the replacement process answering /readyz. */
  downMs: number;
  /** The replica had already exited by itself (a crash the run caused). */
  foundDead?: boolean;
  /** The replacement did not become ready: no more kills after it. */
  restartFailed?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** HAProxy's health check (inter 300 ms, rise 2) takes a restarted replica back in after this. */
const BACK_IN_MS = 1_000;

/**
 * Every `everyMs` SIGKILLs one subgraph replica (no goodbye: its relay's lanes stay leased, events
 * it carried stay in their documents, requests in flight get no answer), leaves it dead for
 * `deadMs`, then starts it again in the background. The kinds go round in shuffled rounds, so
 * every subgraph, each a sender of events, is killed within the first four kills. A kind is not
 * killed again until its last victim is back and HAProxy has seen it up: two replicas of one
 * kind are never down at once, so the topology is degraded, never broken. (Restarts take seconds
 * on a busy machine: waiting for each before the next kill would halve the kills.)
 */
export async function killReplicas(
  topology: ReplicaTopology,
  options: { startedAt: number; until: number; everyMs: number; deadMs: number },
): Promise<Kill[]> {
  const kills: Kill[] = [];
  const back = new Map<string, Promise<void>>();
  const kinds = Object.keys(SUBGRAPHS);
  let round: string[] = [];
  let broken = false;
  for (
    let next = options.startedAt + Math.min(3_000, options.everyMs);
    next < options.until && !broken;
    next += options.everyMs
  ) {
    await sleep(next - Date.now());
    if (round.length === 0) round = [...kinds].sort(() => Math.random() - 0.5);
    const service = round.pop()!;
    await back.get(service);
    if (broken || Date.now() >= options.until) break;
    const candidates = topology.replicas.filter((r) => r.service === service);
    const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
    const killedAt = Date.now();
    const alive = victim.child.exitCode === null && victim.child.signalCode === null;
    if (alive) {
      const exited = new Promise((resolve) => victim.child.once("exit", resolve));
      victim.child.kill("SIGKILL");
      await exited;
    }
    back.set(
      service,
      (async () => {
        await sleep(options.deadMs);
        const failed = await topology.restart(victim.name).then(
          () => null,
          (error: unknown) => String(error),
        );
        kills.push({
          atMs: killedAt - options.startedAt,
          replica: victim.name,
          service,
          downMs: Date.now() - killedAt,
          ...(alive ? {} : { foundDead: true }),
          ...(failed ? { restartFailed: failed } : {}),
        });
        // More kills could take down the last replica of a kind: the run would be broken.
        if (failed) broken = true;
        await sleep(BACK_IN_MS);
      })(),
    );
  }
  await Promise.all(back.values());
  return kills.sort((a, b) => a.atMs - b.atMs);
}
