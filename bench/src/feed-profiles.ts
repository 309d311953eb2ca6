import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { summarise } from "./cpu-profile-summary.js";
import { Inspector } from "./inspector.js";
import { root } from "./stack.js";

/**
 * BENCH_FEED_PROFILE=on: starts a CPU profile in each named process, through its inspector (the
 * gateway's and the feed's already connected, the others' connected here).
 */
export async function startProfiles(
  names: readonly string[],
  inspectors: { gateway: Inspector; feed: Inspector },
  inspectorPorts: Record<string, number>,
): Promise<Record<string, Inspector>> {
  const profiled: Record<string, Inspector> = {};
  for (const name of names) {
    profiled[name] =
      name === "gateway" || name === "feed"
        ? inspectors[name]
        : await Inspector.connect(inspectorPorts[name]!);
    await profiled[name].startProfile();
  }
  return profiled;
}

/**
 * Stops the profiles: raw profiles and summaries in bench/results/profiles/feed-cpu/, and each
 * process's total and top packages for the result file.
 */
export async function stopProfiles(
  profiled: Record<string, Inspector>,
): Promise<Record<string, unknown>> {
  const profiles: Record<string, unknown> = {};
  const dir = join(root, "bench", "results", "profiles", "feed-cpu");
  await mkdir(dir, { recursive: true });
  for (const [name, inspector] of Object.entries(profiled)) {
    const profile = await inspector.stopProfile();
    await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    const summary = summarise(profile, 0, 25);
    profiles[name] = { totalMs: summary.totalMs, byPackage: summary.byPackage.slice(0, 12) };
    await writeFile(join(dir, `${name}.json`), JSON.stringify(summary, null, 2) + "\n");
    if (name !== "gateway" && name !== "feed") inspector.close();
  }
  return profiles;
}
