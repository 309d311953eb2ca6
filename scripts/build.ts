import { build, type Plugin } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Bundles each process entry (gateway and subgraphs) with our own workspace code inlined and
 * every npm package left external, so production runs plain `node dist/main.mjs`: no TypeScript
 * loader hooks at run time (measured: under tsx, the gateway's per-request module lookups cost
 * tens of milliseconds of CPU per request).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
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

/** Bundles one entry file (workspace code inlined, npm packages external). */
export async function bundle(entryFile: string, outFile: string): Promise<void> {
  await build({
    entryPoints: [entryFile],
    outfile: outFile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: true,
    tsconfig: join(root, "tsconfig.json"),
    plugins: [externalPackages],
    logLevel: "warning",
  });
}

export async function buildAll(): Promise<void> {
  await Promise.all(
    ENTRIES.map((entry) =>
      bundle(join(root, entry, "src", "main.ts"), join(root, entry, "dist", "main.mjs")),
    ),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildAll();
  console.log(`built ${ENTRIES.length} entries into */dist/main.mjs`);
}
