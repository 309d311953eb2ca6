import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against the pure modules (`npm run mutation`): the unit tests beside
 * each subgraph's rules and the kit's policy, masking, identity number and errors. One config at
 * the repository root so one Stryker run covers every workspace (each package's own
 * vitest.config.ts has the same settings).
 */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: [
      "subgraphs/{cards,passwords,bank-accounts,persons}/src/rules/**/*.test.ts",
      "subgraphs/kit/src/masking*.test.ts",
      "subgraphs/kit/src/errors*.test.ts",
      "subgraphs/kit/src/identity/identity-number*.test.ts",
      "subgraphs/kit/src/policy/**/*.test.ts",
    ],
    setupFiles: ["reflect-metadata"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
