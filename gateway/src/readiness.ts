import { siblingUrl } from "@hub/kit";

export interface Readiness {
  ready: boolean;
  subgraphs: Record<string, "ready" | "unavailable">;
}

/**
 * CONTRACT.md `/readyz`: ready only when every subgraph answers its own readiness check, which in
 * turn pings its database. Each check is bounded so a hung subgraph cannot hang the probe.
 */
export async function checkReadiness(
  directory: Record<string, string>,
  timeoutMs = 1_500,
): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(directory).map(async ([name, url]) => {
      try {
        const response = await fetch(siblingUrl(url, "/readyz"), {
          signal: AbortSignal.timeout(timeoutMs),
        });
        return [name, response.ok ? "ready" : "unavailable"] as const;
      } catch {
        return [name, "unavailable"] as const;
      }
    }),
  );
  const subgraphs = Object.fromEntries(entries);
  return { ready: entries.every(([, state]) => state === "ready"), subgraphs };
}
