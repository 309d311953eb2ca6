import { median } from "./figures.js";
import type { LagSample, Sample } from "./load.js";

/** `npm run bench`'s results: by workload, by target, each figure the median over the rounds. */
export type ResultTable = Record<
  string,
  Record<string, Record<string, number | null | LagSample | Record<string, number>>>
>;

/** The rounds' samples (by workload, by target) folded into one row each. */
export function medianTable(samples: Record<string, Record<string, Sample[]>>): ResultTable {
  const table: ResultTable = {};
  for (const [workload, byTarget] of Object.entries(samples)) {
    for (const [target, list] of Object.entries(byTarget)) {
      (table[workload] ??= {})[target] = {
        rps: median(list.map((s) => s.rps)),
        p50: median(list.map((s) => s.p50)),
        p95: median(list.map((s) => s.p95)),
        p99: median(list.map((s) => s.p99)),
        errors: list.reduce((sum, s) => sum + s.errors, 0),
        cpuPerRequestUs:
          list[0]?.cpuPerRequestUs === null
            ? null
            : median(list.map((s) => s.cpuPerRequestUs ?? 0)),
        dbCommandsPerRequest: median(list.map((s) => s.dbCommandsPerRequest)),
        ...(list[0]?.cpuPerRequestUsByProcess
          ? {
              cpuPerRequestUsByProcess: Object.fromEntries(
                Object.keys(list[0].cpuPerRequestUsByProcess).map((name) => [
                  name,
                  median(list.map((s) => s.cpuPerRequestUsByProcess?.[name] ?? 0)),
                ]),
              ),
            }
          : {}),
        ...(list[0]?.lag
          ? {
              // The worst round: the lag goal holds only if it holds throughout.
              lag: list
                .map((s) => s.lag!)
                .reduce((worst, l) =>
                  l.maxOldestPendingMs > worst.maxOldestPendingMs ? l : worst,
                ),
            }
          : {}),
      };
    }
  }
  return table;
}

/** By workload: our gateway against @apollo/gateway (throughput, CPU) and the floor (p50). */
export function ratiosOf(table: ResultTable) {
  return Object.fromEntries(
    Object.entries(table).map(([workload, t]) => {
      const none = {} as Record<string, number | null>;
      const figures = (target: string) => (t[target] ?? none) as Record<string, number | null>;
      const o = figures("hive (ours)");
      const a = figures("@apollo/gateway");
      const f = figures("floor (direct fetches)");
      return [
        workload,
        {
          rpsOursOverApollo: Math.round(((o["rps"] ?? 0) / Math.max(1, a["rps"] ?? 1)) * 100) / 100,
          cpuApolloOverOurs:
            Math.round(
              ((a["cpuPerRequestUs"] ?? 0) / Math.max(1, o["cpuPerRequestUs"] ?? 1)) * 100,
            ) / 100,
          p50OursOverFloor:
            Math.round(((o["p50"] ?? 0) / Math.max(0.001, f["p50"] ?? 1)) * 100) / 100,
        },
      ];
    }),
  );
}
