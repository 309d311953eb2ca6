/**
 * `npm run heap -w @hub/bench -- [seconds]`: starts our gateway, loads it with PersonsByIds (100
 * ids), then has it write a heap snapshot (open it in Chrome DevTools' Memory tab) and summarises
 * what fills it to bench/results/profiles/heap.json, with RSS idle, after load and peak. It found
 * the sandbox's inlined GraphiQL bundle (~30 MB of strings) loaded in gateways that never serve it.
 */
import "reflect-metadata";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import autocannon from "autocannon";
import { waitForOk } from "@hub/harness/processes";
import { summariseHeap } from "./heap-summary.js";
import { peakRssMb, rssMb } from "./proc.js";
import { root, startBenchStack } from "./stack.js";

const seconds = Number(process.argv[2] ?? 10);
const outDir = join(root, "bench", "results", "profiles");
const snapshotDir = join(outDir, "heap");
await rm(snapshotDir, { recursive: true, force: true });
await mkdir(snapshotDir, { recursive: true });
const stack = await startBenchStack({ prefix: "heap", firstPort: 4531, personCount: 120 });
try {
  const gateway = stack.startOurGateway(4630, [
    `--heapsnapshot-signal=SIGUSR2`,
    `--diagnostic-dir=${snapshotDir}`,
  ]);
  await waitForOk("http://127.0.0.1:4630/healthz", 60_000, gateway);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const idleRssMb = rssMb(gateway.pid!);
  await autocannon({
    url: "http://127.0.0.1:4630/graphql",
    connections: 20,
    duration: seconds,
    method: "POST",
    headers: stack.headers,
    body: stack.bodies("PersonsByIds")(),
  });
  const loadedRssMb = rssMb(gateway.pid!);
  const peak = peakRssMb(gateway.pid!);
  process.kill(gateway.pid!, "SIGUSR2");
  // The snapshot is complete once its file stops growing.
  let file: string | undefined;
  let lastSize = -1;
  for (let waited = 0; waited < 120_000; waited += 1_000) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const found = (await readdir(snapshotDir)).find((f) => f.endsWith(".heapsnapshot"));
    if (!found) continue;
    const size = (await stat(join(snapshotDir, found))).size;
    if (size > 0 && size === lastSize) {
      file = found;
      break;
    }
    lastSize = size;
  }
  if (!file) throw new Error("the gateway wrote no heap snapshot");
  const summary = summariseHeap(JSON.parse(await readFile(join(snapshotDir, file), "utf8")));
  const report = { idleRssMb, loadedRssMb, peakRssMb: peak, snapshot: file, ...summary };
  await writeFile(join(outDir, "heap.json"), JSON.stringify(report, null, 2) + "\n");
  console.log(
    `RSS idle ${idleRssMb} MB, after load ${loadedRssMb} MB, peak ${peak} MB; heap ${summary.totalMb} MB`,
  );
  console.table(summary.byConstructor.slice(0, 15));
  console.table(summary.largestStrings);
} finally {
  await stack.stop();
}
