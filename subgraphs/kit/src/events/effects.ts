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
 * The deliveries one request (a mutation, or one event received at /events) must see through
 * before it answers: contract v2's "an answer shows its own effects".
 *
 * Passed by hand from the request to every write that may commit events (the context's
 * `effects`, a command's meta, the kit's write helpers), never through AsyncLocalStorage: once any
 * AsyncLocalStorage is in use Node 20 runs a hook on every promise in the process, and in a
 * process that has written once that cost its reads 11–20% of their CPU (docs/performance.md).
 */
export class EffectScope {
  readonly deliveries: TrackedDelivery[] = [];
  /** Writing work ran in this scope (a mutation field, a received event). */
  wrote = false;
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
