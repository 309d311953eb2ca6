/** Self time of a V8 `.cpuprofile` (what `node --cpu-prof` writes), grouped for reading. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Which package a frame's script belongs to: the npm package, node itself, or our bundle. */
export function packageOf(url: string): string {
  if (url === "") return "(native / gc / idle)";
  if (url.startsWith("node:")) return "node:internal";
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.includes("/dist/main.mjs") || url.includes("/dist/app.mjs")) return "(our bundle)";
  return url;
}

type Row = { name: string; ms: number; share: number };
export interface ProfileSummary {
  totalMs: number;
  /** Self time per package. */
  byPackage: Row[];
  /**
   * Self time charged to the nearest caller that is not a utility layer (graphql-js, node
   * internals, promise helpers, GC): who asked for the work.
   */
  byCallerPackage: Row[];
  /** Self time per function. */
  byFunction: Row[];
  /** Time with the function anywhere on the stack (counted once per sample). */
  inclusive: Row[];
}

const UTILITY_LAYERS = new Set([
  "graphql",
  "node:internal",
  "(native / gc / idle)",
  "@whatwg-node/promise-helpers",
  "@graphql-tools/utils",
]);

/**
 * Self and inclusive time per package and function, largest first; (idle) is left out, and so
 * is everything sampled in the first `skipMs` (start-up, before the load began).
 */
export function summarise(profile: CpuProfile, skipMs = 0, top = 40): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: ProfileNode) =>
    `${node.callFrame.functionName || "(anonymous)"} ${packageOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const add = (map: Map<string, number>, key: string, us: number) =>
    map.set(key, (map.get(key) ?? 0) + us);
  const packages = new Map<string, number>();
  const callers = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let elapsedUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i] ?? 0;
    elapsedUs += us;
    if (elapsedUs < skipMs * 1000) continue;
    const leaf = byId.get(samples[i]!);
    if (!leaf) continue;
    const { functionName, url } = leaf.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") continue;
    total += us;
    add(packages, packageOf(url), us);
    add(functions, label(leaf), us);
    let caller: string | undefined;
    const seen = new Set<string>();
    for (
      let node: ProfileNode | undefined = leaf;
      node;
      node = byId.get(parent.get(node.id) ?? -1)
    ) {
      const pkg = packageOf(node.callFrame.url);
      if (caller === undefined && !UTILITY_LAYERS.has(pkg) && node.callFrame.url !== "")
        caller = pkg;
      const key = label(node);
      if (!seen.has(key) && node.callFrame.functionName !== "(root)") {
        seen.add(key);
        add(inclusive, key, us);
      }
    }
    add(callers, caller ?? packageOf(url), us);
  }
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 1000),
        share: Math.round((us / Math.max(1, total)) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(total / 1000),
    byPackage: rank(packages),
    byCallerPackage: rank(callers),
    byFunction: rank(functions),
    inclusive: rank(inclusive),
  };
}
