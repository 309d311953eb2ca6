/**
 * Named places where a crash, a failover or a slow process does harm: between a write and the
 * release of its events, between an issue's claim and its card, between two events of a received
 * batch, between a relay's last look at its lease and its delivery, and between a receiver's
 * answer and what the relay writes after it. Tests hook one to make the
 * fault happen for real (throw: the process "stops" there; wait: it is paused there), against the
 * real database. Nothing is hooked in production: a check of an empty map per point.
 */
export type FaultPoint =
  | "after-carrying-write"
  | "after-issue-claim"
  | "after-id-number-claim"
  | "between-received-events"
  | "before-delivery"
  | "after-delivery";

export type FaultHook = (detail: Record<string, unknown>) => void | Promise<void>;

const hooks = new Map<FaultPoint, FaultHook>();

/** Reached by the code at `point`: runs the test's hook there, if any. */
export async function faultPoint(
  point: FaultPoint,
  detail: Record<string, unknown>,
): Promise<void> {
  const hook = hooks.get(point);
  if (hook) await hook(detail);
}

/** Tests only: hooks `point` until the returned function is called. */
export function injectFault(point: FaultPoint, hook: FaultHook): () => void {
  hooks.set(point, hook);
  return () => {
    if (hooks.get(point) === hook) hooks.delete(point);
  };
}

/** What a hook throws to stop the code at its point, as a crash would. */
export class InjectedCrash extends Error {
  constructor(point: FaultPoint) {
    super(`injected crash at ${point}`);
  }
}
