/**
 * `npm run mutation [-- pure|events|summary]`: Stryker over the modules whose tests are fast
 * (docs/mutation-testing.md). Runs each group's Stryker config in turn (scripts/mutation/
 * stryker.<group>.json; its sandbox and full reports go under reports/mutation/, gitignored),
 * then writes reports/mutation/summary.json: per file its mutant counts, score and survivors.
 * `summary` only rebuilds the summary from the groups' last reports. Not part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "prettier";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GROUPS = ["pure", "events"] as const;
type Group = (typeof GROUPS)[number];

type MutantStatus =
  | "Killed"
  | "Survived"
  | "NoCoverage"
  | "Timeout"
  | "CompileError"
  | "RuntimeError"
  | "Ignored"
  | "Pending";

interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: MutantStatus;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

interface MutationReport {
  files: Record<string, { source: string; mutants: ReportMutant[] }>;
}

interface Survivor {
  line: number;
  column: number;
  mutator: string;
  status: "Survived" | "NoCoverage";
  original: string;
  replacement: string;
}

interface FileSummary {
  group: Group;
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Mutants the TypeScript checker rejected: not counted in the score. */
  compileErrors: number;
  runtimeErrors: number;
  /** (killed + timeout) / (killed + timeout + survived + noCoverage), in percent. */
  score: number;
  survivors: Survivor[];
}

const reportPath = (group: Group) => join(ROOT, "reports/mutation", group, "mutation.json");
const summaryPath = join(ROOT, "reports/mutation/summary.json");

function runStryker(group: Group): void {
  console.log(`\n== Stryker: ${group} (scripts/mutation/stryker.${group}.json)`);
  const stryker = join(ROOT, "node_modules/.bin/stryker");
  const result = spawnSync(stryker, ["run", `scripts/mutation/stryker.${group}.json`], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error(`Stryker (${group}) exited with ${result.status}.`);
}

/** The text a mutant replaced, on one line and cut short. */
function snippet(source: string, mutant: ReportMutant): string {
  const lines = source.split("\n");
  const { start, end } = mutant.location;
  const taken =
    start.line === end.line
      ? (lines[start.line - 1] ?? "").slice(start.column - 1, end.column - 1)
      : [
          (lines[start.line - 1] ?? "").slice(start.column - 1),
          ...lines.slice(start.line, end.line - 1),
          (lines[end.line - 1] ?? "").slice(0, end.column - 1),
        ].join("\n");
  return shorten(taken);
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

function summarise(group: Group, report: MutationReport): Record<string, FileSummary> {
  const files: Record<string, FileSummary> = {};
  for (const [name, file] of Object.entries(report.files)) {
    const path = isAbsolute(name) ? relative(ROOT, name) : name;
    const count = (status: MutantStatus) => file.mutants.filter((m) => m.status === status).length;
    const killed = count("Killed");
    const timeout = count("Timeout");
    const survived = count("Survived");
    const noCoverage = count("NoCoverage");
    const valid = killed + timeout + survived + noCoverage;
    files[path] = {
      group,
      mutants: file.mutants.length,
      killed,
      timeout,
      survived,
      noCoverage,
      compileErrors: count("CompileError"),
      runtimeErrors: count("RuntimeError"),
      score: valid === 0 ? 100 : Math.round(((killed + timeout) / valid) * 10_000) / 100,
      survivors: file.mutants
        .filter(
          (m): m is ReportMutant & { status: Survivor["status"] } =>
            m.status === "Survived" || m.status === "NoCoverage",
        )
        .sort((a, b) => a.location.start.line - b.location.start.line)
        .map((m) => ({
          line: m.location.start.line,
          column: m.location.start.column,
          mutator: m.mutatorName,
          status: m.status,
          original: snippet(file.source, m),
          replacement: shorten(m.replacement ?? ""),
        })),
    };
  }
  return files;
}

async function writeSummary(): Promise<void> {
  const previous = existsSync(summaryPath)
    ? (JSON.parse(readFileSync(summaryPath, "utf8")) as { files?: Record<string, FileSummary> })
    : {};
  const files: Record<string, FileSummary> = {};
  // A group without a report keeps its entries from the last summary.
  for (const group of GROUPS) {
    if (existsSync(reportPath(group))) {
      const report = JSON.parse(readFileSync(reportPath(group), "utf8")) as MutationReport;
      Object.assign(files, summarise(group, report));
    } else {
      for (const [path, entry] of Object.entries(previous.files ?? {}))
        if (entry.group === group) files[path] = entry;
    }
  }
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  const json = JSON.stringify({ generatedAt: new Date().toISOString(), files: sorted });
  writeFileSync(summaryPath, await format(json, { parser: "json" }));
  console.log(`\n| file | mutants | killed | timeout | survived | no coverage | score |`);
  console.log(`| --- | --: | --: | --: | --: | --: | --: |`);
  for (const [path, f] of Object.entries(sorted))
    console.log(
      `| ${path} | ${f.mutants - f.compileErrors} | ${f.killed} | ${f.timeout} | ${f.survived} | ${f.noCoverage} | ${f.score.toFixed(2)} |`,
    );
  console.log(`\nWrote ${relative(ROOT, summaryPath)}.`);
}

const args = process.argv.slice(2);
const onlySummary = args.includes("summary");
const chosen = args.filter((a): a is Group => (GROUPS as readonly string[]).includes(a));
const unknown = args.filter((a) => a !== "summary" && !chosen.includes(a as Group));
if (unknown.length > 0) {
  console.error(`Unknown argument(s): ${unknown.join(", ")}. Use pure, events or summary.`);
  process.exit(2);
}
if (!onlySummary) for (const group of chosen.length > 0 ? chosen : GROUPS) runStryker(group);
await writeSummary();
