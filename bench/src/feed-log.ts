import "reflect-metadata";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { connectMongo, prepareTransactions, startEmbeddedMongo } from "@hub/kit";
import { CardEventLog, type LogLayout, type NewLogEntry } from "@hub/feed";
import { cpuMs } from "./proc.js";
import { root } from "./stack.js";

/**
 * `npm run bench:feed-log -w @hub/bench`: what one append to the feed's log costs the embedded
 * database as the log grows, in each layout (store/card-event-log.ts): the server's own CPU per
 * append (from /proc, so another job on the machine does not count) and the wall time, over
 * APPENDS appends at each size. Writes bench/results/<date>-feed-log.json.
 */
const SIZES = (process.env["BENCH_FEED_LOG_SIZES"] ?? "250,500,1000,2000,4000")
  .split(",")
  .map(Number);
const APPENDS = Number(process.env["BENCH_FEED_LOG_APPENDS"] ?? 50);

const at = new Date();
const entry = (i: number): NewLogEntry => ({
  _id: `ev_${i}_${Math.random().toString(36).slice(2)}`,
  type: "LOSS_REPORTED",
  cardId: `c_${i % 300}`,
  personId: `p_${i % 300}`,
  statusBefore: "NORMAL",
  statusAfter: "TEMPORARY_LOSS",
  occurredAt: at,
  channel: "COUNTER",
  source: "cards",
  sourceType: "CardStatusChanged",
  recordedAt: at,
});

const mongo = await startEmbeddedMongo();
const client = await connectMongo(mongo.uri);
const rows: Record<string, unknown>[] = [];
try {
  for (const layout of (process.env["BENCH_FEED_LOG_LAYOUTS"] ?? "entries,buckets").split(
    ",",
  ) as LogLayout[]) {
    const db = client.db(`feedlog_${layout}`);
    const log = new CardEventLog(db, { layout });
    await Promise.all([log.ensureIndexes(), prepareTransactions(db)]);
    let appended = 0;
    for (const size of SIZES) {
      // Filled to the size one append at a time (as the feed appends), then measured.
      while (appended < size - APPENDS) await log.append(entry(appended++));
      const cpuBefore = cpuMs(mongo.pid!);
      const started = performance.now();
      for (let i = 0; i < APPENDS; i++) await log.append(entry(appended++));
      const row = {
        layout,
        entries: appended,
        serverCpuMsPerAppend: Math.round(((cpuMs(mongo.pid!) - cpuBefore) / APPENDS) * 10) / 10,
        wallMsPerAppend: Math.round(((performance.now() - started) / APPENDS) * 10) / 10,
      };
      rows.push(row);
      console.log(row);
    }
  }
} finally {
  await client.close();
  await mongo.stop();
}
const output = {
  date: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    node: process.version,
    loadAverage: Math.round(os.loadavg()[0]! * 10) / 10,
  },
  settings: { sizes: SIZES, appendsPerSize: APPENDS },
  rows,
};
await mkdir(join(root, "bench", "results"), { recursive: true });
const file = join(root, "bench", "results", `${output.date.slice(0, 10)}-feed-log.json`);
await writeFile(file, JSON.stringify(output, null, 2) + "\n");
console.log(`written to ${file}`);
