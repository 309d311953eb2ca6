import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SCHEMA_DIR } from "./paths.js";

const ROOT = join(SCHEMA_DIR, "..");
const SHARED = join(ROOT, "..", "shared");
const pages = [
  join(ROOT, "README.md"),
  join(ROOT, "SECURITY.md"),
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(ROOT, "docs", name)),
];

/** Relative link targets of a Markdown page: `[text](target)`, without anchors. */
function relativeLinks(page: string): string[] {
  const text = readFileSync(page, "utf8");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target!)
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith("#"))
    .map((target) => target.split("#")[0]!);
}

describe("the README is the front door and docs/ holds the rest", () => {
  it("README.md stays under 10 KB", () => {
    expect(readFileSync(join(ROOT, "README.md")).length).toBeLessThanOrEqual(10 * 1024);
  });

  it("every relative link in README.md, SECURITY.md and docs/ resolves inside the repository", () => {
    const broken: string[] = [];
    for (const page of pages)
      for (const target of relativeLinks(page)) {
        const path = resolve(dirname(page), target);
        if (!path.startsWith(ROOT) || !existsSync(path))
          broken.push(`${page.slice(ROOT.length + 1)} → ${target}`);
      }
    expect(broken).toEqual([]);
  });

  it("docs/README.md lists every page of docs/", () => {
    const index = readFileSync(join(ROOT, "docs", "README.md"), "utf8");
    const listed = new Set(relativeLinks(join(ROOT, "docs", "README.md")));
    const unlisted = pages
      .filter((page) => page.includes("/docs/") && !page.endsWith("/docs/README.md"))
      .map((page) => page.slice(page.lastIndexOf("/") + 1))
      .filter((name) => !listed.has(name));
    expect(index.length).toBeGreaterThan(0);
    expect(unlisted).toEqual([]);
  });
});

// A clone has no ../shared: the copies are then what the repository holds, and these two checks
// are reported as skipped, by name.
describe.skipIf(!existsSync(SHARED))(
  "docs/contract.md and docs/rules.md are the published contract and rule book (skipped without ../shared)",
  () => {
    it("docs/contract.md equals ../shared/contract/CONTRACT.md", () => {
      expect(readFileSync(join(ROOT, "docs", "contract.md"), "utf8")).toBe(
        readFileSync(join(SHARED, "contract", "CONTRACT.md"), "utf8"),
      );
    });
    it("docs/rules.md equals ../shared/DOMAIN.md", () => {
      expect(readFileSync(join(ROOT, "docs", "rules.md"), "utf8")).toBe(
        readFileSync(join(SHARED, "DOMAIN.md"), "utf8"),
      );
    });
  },
);
