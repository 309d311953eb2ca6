import { build, type BuildOptions, type Plugin } from "esbuild";
import { basename, join } from "node:path";

/**
 * The bootstrap `dist/main.mjs` of a bundled process: it starts tracing (kit tracing/start.ts,
 * nothing when HUB_OTLP_ENDPOINT is unset), then imports the process itself, bundled apart as
 * `dist/app.mjs`.
 *
 * Why two files: OpenTelemetry's instrumentations patch `mongodb`, `graphql` and `node:http` as
 * they are loaded, so tracing must start first. In one bundle it cannot: esbuild writes every npm
 * import of the bundle as a static `import` at its top, and Node loads all of those before any of
 * the bundle's own code runs. The app is imported by this file at run time (`./app.mjs` is left
 * external), after tracing has started, and `node dist/main.mjs` stays the way every process is
 * run (npm start, the tests, the bench, the container image).
 */
export function bootstrapSource(serviceName: string): string {
  const subgraph = serviceName !== "gateway";
  return [
    `import { startTracing } from "@hub/kit/tracing";`,
    // A subgraph loads the instrumentations, which need their contexts carried; the gateway
    // neither (tracing.plugin.ts).
    `const tracing = await startTracing(${JSON.stringify(serviceName)}, process.env, { instrument: ${subgraph}, carryContext: ${subgraph} });`,
    // What is queued leaves at once; the process's own handler then drains, sends the spans that
    // ended meanwhile (kit tracing/state.ts, flushTracing) and exits.
    `if (tracing) for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => void tracing.flush().catch(() => undefined));`,
    `await import("./app.mjs");`,
  ].join("\n");
}

/** The service name a process reports: `gateway`, or the subgraph's name (`cards`, …). */
export function serviceNameOf(entry: string): string {
  return basename(entry);
}

/**
 * Bundles the bootstrap of `entry` into `outFile` (workspace code inlined, npm packages and
 * `./app.mjs` external); `options` are the app bundle's (bundles.ts).
 */
export async function bundleBootstrap(
  entryDir: string,
  outFile: string,
  options: BuildOptions & { plugins: Plugin[] },
): Promise<void> {
  await build({
    ...options,
    stdin: {
      contents: bootstrapSource(serviceNameOf(entryDir)),
      resolveDir: join(entryDir, "src"),
      sourcefile: "bootstrap.ts",
      loader: "ts",
    },
    outfile: outFile,
    plugins: [
      {
        name: "app-external",
        setup(builder) {
          builder.onResolve({ filter: /^\.\/app\.mjs$/ }, (args) => ({
            path: args.path,
            external: true,
          }));
        },
      },
      ...options.plugins,
    ],
  });
}
