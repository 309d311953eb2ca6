import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const loggerModule = fileURLToPath(new URL("./logger.ts", import.meta.url));

describe("log lines on standard output (buffered)", () => {
  it("a quiet process's line still comes out while it runs, and what is buffered at exit is written", async () => {
    // The child logs one line, then waits for the test to have read it before logging a second
    // line and exiting at once: a line held until 4 KB gathered would never arrive.
    const script = `
      import { createLogger } from ${JSON.stringify(loggerModule)};
      const log = createLogger("quiet", "info");
      log.info("first line");
      process.stdin.once("data", () => {
        log.info({ password: "secret" }, "last line");
        process.exit(0);
      });`;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const sawFirst = output.includes("first line");
      output += chunk.toString("utf8");
      if (!sawFirst && output.includes("first line")) child.stdin.write("go\n");
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    const lines = output
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { msg: string; name: string; password?: string });
    expect(lines.map((line) => line.msg)).toEqual(["first line", "last line"]);
    expect(lines[1]).toMatchObject({ name: "quiet", password: "[redacted]" });
  }, 20_000);
});
