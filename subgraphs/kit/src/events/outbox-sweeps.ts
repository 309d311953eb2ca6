import type { DatabaseClock } from "../mongo/database-clock.js";
import { POLL } from "./command-tags.js";
import { STRANDED, type Carrier, type CarryingDocument } from "./outbox-document.js";
import { MAJORITY, release, type ReleaseTarget } from "./outbox-release.js";

/** A completion of writers that stopped half-way: given the age from which work counts as stranded, it answers how many it completed. */
export type Sweep = (olderThanMs: number) => Promise<number>;

/**
 * Releases events whose writer stopped between its write and their release (older than
 * `olderThanMs` by `clock`), in each of `carriers`. One document that cannot be released does
 * not hold up the others; the failures are thrown after.
 */
export async function releaseStranded(
  outbox: ReleaseTarget,
  clock: DatabaseClock,
  carriers: Iterable<Carrier>,
  olderThanMs: number,
): Promise<number> {
  let released = 0;
  const errors: unknown[] = [];
  const cutoff = new Date(clock.nowMs() - olderThanMs);
  for (const carrier of carriers) {
    // Majority: a write a failover rolls back must not have its events released (see
    // releaseCommitted).
    const stranded = await carrier
      .find(
        { outgoingSince: { ...STRANDED.outgoingSince, $lte: cutoff } },
        { comment: POLL, ...MAJORITY },
      )
      .limit(100)
      .toArray();
    for (const doc of stranded) {
      const carrying = doc as unknown as CarryingDocument;
      // Their writer's request is gone: nobody waits for them.
      await release(outbox, carrier, carrying, null).then(
        () => (released += carrying.outgoing?.length ?? 0),
        (error: unknown) => errors.push(error),
      );
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, "stranded events not released");
  return released;
}

/**
 * Runs each of `sweeps` with the age from which work counts as stranded: by name, how many it
 * completed. Every sweep runs even when one fails (a bad document must not stop the others'
 * work); the failures are thrown after.
 */
export async function runSweeps(
  sweeps: ReadonlyMap<string, Sweep>,
  strandedAfterMs: number,
): Promise<Map<string, number>> {
  const done = new Map<string, number>();
  const errors: unknown[] = [];
  for (const [name, sweep] of sweeps)
    await sweep(strandedAfterMs).then(
      (count) => done.set(name, count),
      (error: unknown) => errors.push(error),
    );
  if (errors.length > 0) throw new AggregateError(errors, "outbox sweeps failed");
  return done;
}
