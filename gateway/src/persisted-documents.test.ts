import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadManifests } from "./persisted-documents.js";
import { contractManifest, MANIFEST_PATH } from "./write-manifest.js";

describe("persisted query manifests", () => {
  it("schema/persisted-query-manifest.json is the contract's operations (run `npm run compose` when this fails)", async () => {
    expect(await readFile(MANIFEST_PATH, "utf8")).toBe(await contractManifest());
  });

  it("loads manifests from files and directories; a file that is not a manifest stops the start, named", async () => {
    const dir = await mkdtemp(join(tmpdir(), "manifests-"));
    await writeFile(join(dir, "a.json"), await contractManifest());
    await writeFile(join(dir, "notes.txt"), "not a manifest, not read");
    const fromDir = await loadManifests([dir]);
    const fromFile = await loadManifests([MANIFEST_PATH]);
    expect(fromDir).toEqual(fromFile);
    expect(fromFile.map((d) => d.name)).toContain("PersonCards");
    await writeFile(join(dir, "b.json"), JSON.stringify({ format: "relay", operations: {} }));
    await expect(loadManifests([dir])).rejects.toThrow(
      /b\.json is not an apollo-persisted-query-manifest/,
    );
    await expect(loadManifests([join(dir, "missing.json")])).rejects.toThrow(/does not exist/);
  });
});

describe("docs/clients.md", () => {
  it("lists every contract operation with its persisted id", async () => {
    const doc = await readFile(join(dirname(MANIFEST_PATH), "..", "docs", "clients.md"), "utf8");
    const manifest = JSON.parse(await contractManifest()) as {
      operations: { name: string; id: string }[];
    };
    for (const op of manifest.operations) expect(doc).toContain(`| \`${op.name}\` |`);
    for (const op of manifest.operations)
      expect(doc, op.name).toMatch(new RegExp(`\\| \`${op.name}\` \\| \\w+ \\| \`${op.id}\` \\|`));
  });
});
