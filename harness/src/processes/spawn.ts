import { spawn, type ChildProcess } from "node:child_process";
import { basename } from "node:path";

/**
 * Node flags each process runs with, by package folder name. The gateway's old generation is
 * capped: left alone, V8 lets a busy gateway's heap grow to several times what is live (bench:
 * ~330–480 MB peak RSS with ~70 MB live). The cap alone made it collect so often that CPU per
 * request rose ~15%; a larger young generation (most of a request's garbage dies young) won that
 * back. Measured with `npm run profile -w @hub/bench` (BENCH_CPU_PROF=off, PersonCards): no flags
 * 2.0 ms/request and 328 MB peak; cap only 2.4 ms and 180 MB; both 2.1 ms and 221 MB. The
 * in-flight limit (HUB_MAX_IN_FLIGHT) keeps the work in progress, and so the live heap, bounded.
 */
export const NODE_FLAGS: Record<string, string[]> = {
  gateway: ["--max-old-space-size=192", "--max-semi-space-size=32"],
};

/**
 * Starts a bundled entry (`<package>/dist/main.mjs`, see bundles.ts) with plain Node. Its
 * log lines go to this process's standard output, or with `logs: "drain"` into a pipe that is
 * read and dropped (as a container runtime reads them: the benchmarks, at production log level).
 */
export function spawnBundle(
  packageDir: string,
  env: NodeJS.ProcessEnv,
  nodeOptions: string[] = [],
  logs: "inherit" | "drain" = "inherit",
): ChildProcess {
  const flags = NODE_FLAGS[basename(packageDir)] ?? [];
  const child = spawn(
    process.execPath,
    ["--enable-source-maps", ...flags, ...nodeOptions, `${packageDir}/dist/main.mjs`],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", logs === "drain" ? "pipe" : "inherit", "inherit"],
    },
  );
  child.stdout?.resume();
  return child;
}

/** Polls a URL until it answers 200, or fails after `timeoutMs`. */
export async function waitForOk(
  url: string,
  timeoutMs: number,
  child?: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`${url}: the process exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
}

/** Sends SIGTERM and waits (bounded) for the process to exit. */
export function stopProcess(child: ChildProcess, graceMs = 8_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
