import { percentile } from "./outboxes.js";

/** The middle value (the upper one of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** One decimal. */
export const round = (n: number) => Math.round(n * 10) / 10;

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** p50, p95 and p99 of `values`, to one decimal. */
export function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
  };
}
