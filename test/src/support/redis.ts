import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { unusedPort } from "@hub/harness";

const REDIS = process.env["HUB_REDIS_SERVER"] ?? "/usr/bin/redis-server";

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** Debian's redis-server on a free port, in memory only (installed by the test command's set-up). */
export async function startRedis(): Promise<TestRedis> {
  if (!existsSync(REDIS))
    throw new Error(
      `No redis-server at ${REDIS}: install Debian's redis-server package (npm test does as root) or set HUB_REDIS_SERVER.`,
    );
  const port = await unusedPort();
  const child: ChildProcess = spawn(
    REDIS,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start: ${output}`)),
      10_000,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
  child.stdout?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
