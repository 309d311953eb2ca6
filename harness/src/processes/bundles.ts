import { build, type BuildOptions, type Plugin } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleBootstrap } from "./traced-entry.js";

/** The repository's root: each process entry's package folder is below it. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/**
 * Bundles each process entry (gateway and subgraphs) with our own workspace code inlined and
 * every npm package left external, so production runs plain `node dist/main.mjs`: no TypeScript
 * loader hooks at run time (measured: under tsx, the gateway's per-request module lookups cost
 * tens of milliseconds of CPU per request).
 */
export const ENTRIES = [
  "gateway",
  "subgraphs/persons",
  "subgraphs/cards",
  "subgraphs/passwords",
  "subgraphs/bank-accounts",
  "subgraphs/feed",
];

const externalPackages: Plugin = {
  name: "external-packages",
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@hub/") ? undefined : { path: args.path, external: true },
    );
  },
};

/** How every bundle is built: ESM for Node 20 with a source map, npm packages left external. */
const bundleOptions = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  tsconfig: join(REPO_ROOT, "tsconfig.json"),
  plugins: [externalPackages],
  logLevel: "warning",
} satisfies BuildOptions;

/** Bundles one entry file (workspace code inlined, npm packages external). */
export async function bundle(entryFile: string, outFile: string): Promise<void> {
  await build({ ...bundleOptions, entryPoints: [entryFile], outfile: outFile });
}

/**
 * Bundles every entry: the process into `<package>/dist/app.mjs`, and `<package>/dist/main.mjs`,
 * which starts tracing before it imports the app (traced-entry.ts; `npx tsx scripts/build.ts`).
 */
export async function buildAll(): Promise<void> {
  await Promise.all(
    ENTRIES.flatMap((entry) => [
      bundle(join(REPO_ROOT, entry, "src", "main.ts"), join(REPO_ROOT, entry, "dist", "app.mjs")),
      bundleBootstrap(
        join(REPO_ROOT, entry),
        join(REPO_ROOT, entry, "dist", "main.mjs"),
        bundleOptions,
      ),
    ]),
  );
}
