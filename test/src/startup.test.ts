import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEST_SECRET } from "./support/hub.js";
import { unusedPort } from "@hub/harness";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function run(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, entry)], {
      env: { ...process.env, ...env },
      cwd: root,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("start-up failures", () => {
  it("a database that cannot be reached: one line on stderr and a non-zero exit, no stack dump", async () => {
    const port = await unusedPort();
    const result = await run("subgraphs/cards/src/main.ts", {
      MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500`,
      HUB_JWT_SECRET: TEST_SECRET,
      CARDS_PORT: "0",
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^cards: Cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:\d+/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("bad configuration names each bad variable", async () => {
    const result = await run("subgraphs/persons/src/main.ts", {
      MONGODB_URI: "postgres://x",
      HUB_JWT_SECRET: "short",
      PERSONS_PORT: "70000",
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/MONGODB_URI/);
    expect(result.stderr).toMatch(/HUB_JWT_SECRET/);
    expect(result.stderr).toMatch(/PERSONS_PORT/);
  });

  it("a key-set deployment without HUB_SERVICE_SECRET (nor HUB_JWT_SECRET) says the relay needs it", async () => {
    const env: Record<string, string> = {
      MONGODB_URI: "mongodb://127.0.0.1:1/",
      HUB_JWKS_URL: "https://idp.example/jwks.json",
      CARDS_PORT: "0",
    };
    const result = await run("subgraphs/cards/src/main.ts", { ...env, HUB_JWT_SECRET: "" });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/HUB_SERVICE_SECRET/);
  });

  it("a subgraph address that is not a GraphQL URL stops the process before anything starts", async () => {
    const result = await run("subgraphs/cards/src/main.ts", {
      MONGODB_URI: "mongodb://127.0.0.1:1/",
      HUB_JWT_SECRET: TEST_SECRET,
      BANK_ACCOUNTS_URL: "127.0.0.1:4004",
      CARDS_PORT: "0",
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^cards: Invalid configuration: BANK_ACCOUNTS_URL/);
  });
});
