import { spawn } from "node:child_process";
import { REPO_ROOT } from "@hub/harness/processes";
import { median } from "./figures.js";

async function coldStartOnce(): Promise<number | null> {
  const started = Date.now();
  const child = spawn("npm", ["start"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: "4700",
      PERSONS_PORT: "4701",
      CARDS_PORT: "4702",
      PASSWORDS_PORT: "4703",
      BANK_ACCOUNTS_PORT: "4704",
      MONGODB_URI: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const up = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 90_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Card-status hub is up")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once("exit", () => resolve(false));
  });
  const seconds = (Date.now() - started) / 1000;
  if (child.pid) process.kill(-child.pid, "SIGINT");
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return up ? Math.round(seconds * 10) / 10 : null;
}

/**
 * `npm start` to its first answered query, three times on a machine left idle for a few seconds
 * first (the bench's own processes have just stopped); the median is reported.
 */
export async function coldStart(): Promise<{
  medianSeconds: number | null;
  runs: (number | null)[];
}> {
  const runs: (number | null)[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    runs.push(await coldStartOnce());
  }
  const measured = runs.filter((r): r is number => r !== null);
  return { medianSeconds: measured.length === 3 ? median(measured) : null, runs };
}
