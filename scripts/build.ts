import { buildAll, ENTRIES } from "@hub/harness/processes";

/**
 * `npx tsx scripts/build.ts`: bundles the gateway and each subgraph into `<package>/dist/main.mjs`
 * (what production and the container image run; the bundling itself is @hub/harness's).
 */
await buildAll();
console.log(`built ${ENTRIES.length} entries into */dist/main.mjs`);
