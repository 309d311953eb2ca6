import { readFileSync } from "node:fs";

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[11] = utime, fields[12] = stime (clock ticks; 100 per second on Linux)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** A memory figure of a process from /proc/<pid>/status (reported there in kB), in MB. */
function statusMb(pid: number, field: "VmHWM" | "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Peak resident set size of a process so far, in MB (VmHWM). */
export function peakRssMb(pid: number): number {
  return statusMb(pid, "VmHWM");
}

/** Resident set size of a process now, in MB (VmRSS). */
export function rssMb(pid: number): number {
  return statusMb(pid, "VmRSS");
}
