import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { startEmbeddedMongo } from "../../subgraphs/kit/src/mongo/embedded-mongo.js";

/**
 * The tests Stryker runs against the kit's event modules (`npm run mutation -- events`). Each
 * Stryker test runner loads this config once and starts one embedded MongoDB for all of its
 * mutant runs (TEST_MONGODB_URI, which useTestMongo prefers), rather than one per test file and
 * run: the tests name their databases uniquely, so runs do not see each other's data. Stryker
 * kills a runner with its process tree, the server included.
 */
const uri = process.env["TEST_MONGODB_URI"] ?? (await startEmbeddedMongo()).uri;

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["subgraphs/kit/src/events/**/*.test.ts"],
    env: { TEST_MONGODB_URI: uri },
    setupFiles: ["reflect-metadata"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
