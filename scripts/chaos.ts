import { join } from "node:path";
import { chaosOptionsFromEnv, formatSummary, runChaos, writeSummary } from "@hub/harness/chaos";

/**
 * `npm run chaos`: the replicas topology under four clients' mixed mutations while a subgraph
 * replica is SIGKILLed and restarted every few seconds; then the outboxes drain and the
 * invariants are read from the databases. Prints the summary, writes it to
 * bench/results/chaos-<time>.json, and exits 1 when an invariant fails (docs/chaos.md).
 */
const summary = await runChaos(chaosOptionsFromEnv(process.env));
const path = await writeSummary(
  summary,
  process.env["HUB_CHAOS_RESULTS"] ?? join(import.meta.dirname, "..", "bench", "results"),
);
console.log(formatSummary(summary));
console.log(`summary: ${path}`);
process.exit(summary.passed ? 0 : 1);
