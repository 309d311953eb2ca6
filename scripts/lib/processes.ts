import { spawn, type ChildProcess } from "node:child_process";

/** Starts a bundled entry (`<package>/dist/main.mjs`, see scripts/build.ts) with plain Node. */
export function spawnBundle(packageDir: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ["--enable-source-maps", `${packageDir}/dist/main.mjs`], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
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
