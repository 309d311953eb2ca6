import { AsyncLocalStorage } from "node:async_hooks";

/** An effect of a committed change that had not reached its subgraph when the answer left. */
export interface PendingEffect {
  eventId: string;
  type: string;
  /** The subgraph that still has to apply it. */
  destination: string;
}

/**
 * What one committed outbox write waits for: resolves with the effects still pending further
 * down the line (a receiver's own effects it could not deliver), or rejects/never resolves while
 * its own delivery is pending.
 */
export interface TrackedDelivery {
  effect: PendingEffect;
  delivered: Promise<PendingEffect[]>;
}

/**
 * The deliveries one request (a mutation, or one batch of events received at /events) must see
 * through before it answers: contract v2's "an answer shows its own effects".
 */
export class EffectScope {
  readonly deliveries: TrackedDelivery[] = [];
  /** Writing work ran in this scope (a mutation field, a received event). */
  wrote = false;
}

const scopes = new AsyncLocalStorage<EffectScope>();

/**
 * Runs `work` inside `scope`, which collects the deliveries its committed writes start.
 *
 * Only writing work runs in a scope (a mutation's root field, one received event): once any
 * AsyncLocalStorage is in use Node runs a hook on every promise created in the process, which
 * cost a subgraph 12–15% of its CPU on reads (docs/performance.md), so a process pays it only from
 * its first write on. The storage is not switched off again between writes: switching Node's
 * promise hooks off and on while promises are pending lost a relay's wake-up now and then (the
 * kit's relay test failed in 3 of 21 runs, none of 14 without the switching).
 */
export async function withinEffects<T>(scope: EffectScope, work: () => Promise<T>): Promise<T> {
  scope.wrote = true;
  return scopes.run(scope, work);
}

/** Runs `work` in a new scope and returns it with the work's value, once the work is done. */
export async function collectEffects<T>(
  work: () => Promise<T>,
): Promise<{ value: T; scope: EffectScope }> {
  const scope = new EffectScope();
  const value = await withinEffects(scope, work);
  // The scope fills as the work's writes commit; read it once the work is done.
  return { value, scope };
}

/**
 * The scope of the request (or of the one received event) running now, if it waits for its
 * effects. The outbox takes it when an event is written and fills it once the write commits.
 */
export function currentEffectScope(): EffectScope | undefined {
  return scopes.getStore();
}

/**
 * Waits until every delivery has arrived or `budgetMs` has passed; answers what is still
 * pending (their own delivery, or effects further down the line). Never throws: the change has
 * committed, and the relay delivers whatever is pending.
 */
export async function settleEffects(
  deliveries: readonly TrackedDelivery[],
  budgetMs: number,
): Promise<PendingEffect[]> {
  if (deliveries.length === 0) return [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, budgetMs));
  });
  try {
    const outcomes = await Promise.all(
      deliveries.map(async (delivery) => {
        const settled = await Promise.race([
          delivery.delivered.then(
            (downstream) => downstream,
            () => [delivery.effect],
          ),
          deadline,
        ]);
        return settled === "late" ? [delivery.effect] : settled;
      }),
    );
    const pending = new Map<string, PendingEffect>();
    for (const effect of outcomes.flat())
      pending.set(`${effect.eventId}:${effect.destination}`, effect);
    return [...pending.values()];
  } finally {
    clearTimeout(timer);
  }
}
