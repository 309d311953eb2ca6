import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface EmbeddedMongo {
  /** Connection string of a one-node replica set (transactions work). */
  readonly uri: string;
  /** The server's process (benchmarks read its CPU time). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const BINARY_PACKAGE = "@jongodb/memory-server-bin-linux-x64-gnu";

function binaryPath(): string {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${BINARY_PACKAGE}/package.json`);
  } catch {
    throw new Error(
      `The embedded MongoDB (${BINARY_PACKAGE}) is not installed for this platform; set MONGODB_URI to a MongoDB replica set instead.`,
    );
  }
  const bin = join(dirname(pkgJson), "bin", "jongodb");
  if (!existsSync(bin)) throw new Error(`The embedded MongoDB binary is missing at ${bin}.`);
  return bin;
}

/**
 * Starts jongodb, the MongoDB-wire-compatible server that installs from npm (see
 * EMBEDDED-MONGO.md). It keeps data in memory only: every start is a fresh database.
 */
export async function startEmbeddedMongo(
  options: { startTimeoutMs?: number; port?: number } = {},
): Promise<EmbeddedMongo> {
  const child: ChildProcess = spawn(
    binaryPath(),
    [
      "--host=127.0.0.1",
      `--port=${options.port ?? 0}`,
      "--database=hub",
      "--topology-profile=singleNodeReplicaSet",
      "--replica-set-name=rs0",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const uri = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error("The embedded MongoDB did not start in time.")),
      options.startTimeoutMs ?? 10_000,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /JONGODB_URI=(\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The embedded MongoDB exited during start-up (code ${code}).`));
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  // The server must not outlive this process (a test runner killed mid-run, Ctrl-C).
  const killChild = () => child.kill("SIGKILL");
  process.once("exit", killChild);
  child.once("exit", () => process.removeListener("exit", killChild));
  // Keep draining output so the child never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    uri,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill("SIGKILL"), 3_000);
        child.once("exit", () => {
          clearTimeout(force);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
