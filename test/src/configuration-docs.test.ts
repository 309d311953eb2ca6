import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { feedEnv, webhookEnv } from "@hub/feed";
import { gatewayEnv } from "@hub/gateway";
import { SUBGRAPHS, subgraphEnv, variablesOf } from "@hub/kit";
import { testEnv } from "@hub/kit/testing";
import { passwordsEnv } from "@hub/passwords";
import { describe, expect, it } from "vitest";
import { startEnv } from "@hub/harness/cli";

const ROOT = join(import.meta.dirname, "..", "..");

/** Every variable named in the first column of docs/configuration.md's settings table. */
async function documented(): Promise<string[]> {
  const page = await readFile(join(ROOT, "docs", "configuration.md"), "utf8");
  return page
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...line.split("|")[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!));
}

/** Every variable a settings schema of the hub declares, and the subgraphs' ports and URLs. */
function declared(): string[] {
  return [
    ...[subgraphEnv, gatewayEnv, feedEnv, webhookEnv, passwordsEnv, startEnv, testEnv].flatMap(
      variablesOf,
    ),
    ...Object.values(SUBGRAPHS).flatMap((s) => [s.portVariable, s.urlVariable]),
  ];
}

describe("docs/configuration.md", () => {
  it("lists exactly the settings the hub's zod schemas declare, each once", async () => {
    const listed = await documented();
    expect(new Set(listed).size, "a variable listed twice").toBe(listed.length);
    expect([...new Set(listed)].sort()).toEqual([...new Set(declared())].sort());
  });
});
