/**
 * CPU samples of `perf record -e cpu-clock -g` (as `perf script -F comm,pid,tid,ip,sym` prints
 * them), grouped per process by where the time went.
 *
 * Why perf beside `node --cpu-prof`: V8's profiler samples on a wall-clock timer, so a process
 * descheduled inside a system call (on loopback a socket write wakes its reader, and two cores
 * are shared by seven processes) is charged for the time it did not run — its profiles put 35% of
 * a subgraph in `writeBuffer` while /proc said 93% of its CPU was user time. `cpu-clock` samples
 * only a thread on a CPU, all threads of a process (GC and compiler threads included), and with
 * `node --perf-basic-prof` names the JavaScript frames.
 */

export interface PerfShare {
  name: string;
  share: number;
}

export interface ProcessCpu {
  samples: number;
  /** Per sample, the innermost JavaScript frame's package; native work by thread and kind. */
  byPackage: PerfShare[];
  /** The innermost JavaScript function of each sample (native frames below it included). */
  byFunction: PerfShare[];
}

interface Sample {
  pid: string;
  tid: string;
  frames: string[];
}

/** The package a JavaScript frame (`JS:*name file:line`) belongs to, or null for native code. */
export function framePackage(frame: string): string | null {
  if (!frame.includes("JS:")) return null;
  const module = /node_modules\/((?:@[^/]+\/)?[^/:]+)/.exec(frame);
  if (module) return module[1]!;
  const builtin = / node:([\w]+)/.exec(frame);
  if (builtin) return `node:${builtin[1]}`;
  const own = /\/(gateway|subgraphs\/[\w-]+|bench\/[\w-]+)\/dist\//.exec(frame);
  if (own) return `(our code: ${own[1]})`;
  return "(other JavaScript)";
}

/** What native work without a JavaScript frame is: the thread tells GC and compiler apart. */
function nativeKind(sample: Sample): string {
  const stack = sample.frames.join(" ");
  if (sample.pid !== sample.tid) {
    if (/Scaveng|Mark|Sweep|Evacuat|Compact|Heap|GC/.test(stack)) return "(GC threads)";
    if (/compiler|Compile|Turbofan|Maglev/.test(stack)) return "(compiler threads)";
    return "(other threads)";
  }
  if (/Scaveng|Mark|Sweep|Heap::/.test(stack)) return "(GC on the main thread)";
  return "(native, main thread)";
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  let current: Sample | null = null;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (current) samples.push(current);
      current = null;
    } else if (!/^\s/.test(line)) {
      const head = /^\S+\s+(\d+)\/(\d+)/.exec(line);
      current = head ? { pid: head[1]!, tid: head[2]!, frames: [] } : null;
    } else if (current) {
      const frame = /^\s*[0-9a-f]+\s+(.*?)(?:\s+\([^)]*\))?$/.exec(line);
      if (frame) current.frames.push(frame[1]!);
    }
  }
  if (current) samples.push(current);
  return samples;
}

function shares(counts: Map<string, number>, total: number, top: number): PerfShare[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, n]) => ({ name, share: Math.round((n / total) * 1000) / 10 }));
}

/** Per named process (pid → name), its samples grouped by package and by function. */
export function summarisePerf(
  text: string,
  processes: Record<string, number>,
  top = 25,
): Record<string, ProcessCpu> {
  const names = new Map(Object.entries(processes).map(([name, pid]) => [String(pid), name]));
  const grouped = new Map<
    string,
    { samples: number; pkg: Map<string, number>; fn: Map<string, number> }
  >();
  for (const sample of parseSamples(text)) {
    const name = names.get(sample.pid);
    if (!name) continue;
    const entry = grouped.get(name) ?? { samples: 0, pkg: new Map(), fn: new Map() };
    grouped.set(name, entry);
    entry.samples += 1;
    const js = sample.frames.find((frame) => framePackage(frame) !== null);
    const pkg = js ? framePackage(js)! : nativeKind(sample);
    const fn = js
      ? js.replace(/^JS:[*^~]?/, "").replace(/file:\/\/|\/\S*node_modules\//g, "")
      : pkg;
    entry.pkg.set(pkg, (entry.pkg.get(pkg) ?? 0) + 1);
    entry.fn.set(fn, (entry.fn.get(fn) ?? 0) + 1);
  }
  return Object.fromEntries(
    [...grouped].map(([name, entry]) => [
      name,
      {
        samples: entry.samples,
        byPackage: shares(entry.pkg, entry.samples, top),
        byFunction: shares(entry.fn, entry.samples, top),
      },
    ]),
  );
}
