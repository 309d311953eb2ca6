import { siblingUrl } from "@hub/kit";

/** The outboxes of every subgraph (GET /outbox): what waits for delivery, and the oldest's age. */
export async function outboxLag(
  subgraphUrls: Record<string, string>,
): Promise<{ pending: number; oldestPendingMs: number }> {
  let pending = 0;
  let oldestPendingMs = 0;
  for (const url of Object.values(subgraphUrls)) {
    const response = await fetch(siblingUrl(url, "/outbox")).catch(() => null);
    if (!response?.ok) continue;
    const lane = (await response.json()) as { pending: number; oldestPendingMs: number };
    pending += lane.pending;
    oldestPendingMs = Math.max(oldestPendingMs, lane.oldestPendingMs);
  }
  return { pending, oldestPendingMs };
}

/** Milliseconds until every outbox is empty (polled every `intervalMs`), or null after `timeoutMs`. */
export async function untilOutboxesEmpty(
  subgraphUrls: Record<string, string>,
  timeoutMs: number,
  intervalMs: number,
): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if ((await outboxLag(subgraphUrls)).pending === 0)
      return Math.round(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return null;
}

/** The value below which `p` percent of `sorted` (ascending) lie. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
