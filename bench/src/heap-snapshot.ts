import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { HeapSnapshot } from "./heap-summary.js";

/**
 * Has process `pid` (started with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>`) write a
 * heap snapshot and reads it. V8 collects garbage fully before it writes one, so its total is the
 * live heap, not whatever the collector had yet to reclaim. The file is removed once read (a
 * gateway's is ~100 MB).
 */
export async function takeHeapSnapshot(
  pid: number,
  dir: string,
  timeoutMs = 180_000,
): Promise<HeapSnapshot> {
  const earlier = new Set(await readdir(dir));
  process.kill(pid, "SIGUSR2");
  let lastSize = -1;
  for (let waited = 0; waited < timeoutMs; waited += 1_000) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const found = (await readdir(dir)).find((f) => f.endsWith(".heapsnapshot") && !earlier.has(f));
    if (!found) continue;
    const file = join(dir, found);
    const size = (await stat(file)).size;
    // Complete once its file stops growing and parses (V8 writes it in chunks).
    if (size > 0 && size === lastSize) {
      try {
        const snapshot = JSON.parse(await readFile(file, "utf8")) as HeapSnapshot;
        await rm(file, { force: true });
        return snapshot;
      } catch {
        // Not whole yet: look again.
      }
    }
    lastSize = size;
  }
  throw new Error(`process ${pid} wrote no heap snapshot in ${timeoutMs} ms`);
}
