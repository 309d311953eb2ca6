import { readFileSync } from "node:fs";
import { round } from "./figures.js";
import { percentile } from "./outboxes.js";

// The feed bench's readings: processes' resident memory, latency summaries, cursors' times.

/** Resident memory of a process now, in kB (/proc/<pid>/status VmRSS). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** The median of `count` RSS readings a second apart (a single reading catches a GC's peaks). */
export async function settledRssKb(pid: number, count = 5, apartMs = 1_000): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < count; i++) {
    readings.push(rssKb(pid));
    await new Promise((resolve) => setTimeout(resolve, apartMs));
  }
  return percentile(
    readings.sort((a, b) => a - b),
    50,
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Count, p50, p95, p99 and max of `values`, to one decimal. */
export function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

/** The recording time inside a feed cursor (base64url JSON `{v, s, t}`); the bench may look. */
export function recordedAt(cursor: string): number {
  return (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { t: number }).t;
}
