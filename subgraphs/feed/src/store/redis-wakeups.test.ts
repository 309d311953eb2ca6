import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { createLogger } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tailLog } from "../commands/tail-log.js";
import type { CardEventDocument } from "./card-event-document.js";
import { LogTail } from "./log-tail.js";
import { freshLog, logEntry } from "../testing/log-fixtures.js";
import { redisWakeups, type Wakeups } from "./redis-wakeups.js";

const REDIS = process.env["HUB_REDIS_SERVER"] ?? "/usr/bin/redis-server";

let redis: ChildProcess | undefined;
let redisUrl = "";

/** Debian's redis-server on a free port, in memory only (installed by the test command's set-up). */
beforeAll(async () => {
  if (!existsSync(REDIS))
    throw new Error(
      `No redis-server at ${REDIS}: install Debian's redis-server package (npm test does as root) or set HUB_REDIS_SERVER.`,
    );
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(REDIS, ["--port", String(port), "--bind", "127.0.0.1", "--save", ""], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  redis = child;
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code})`)));
  });
  child.stdout?.resume();
  redisUrl = `redis://127.0.0.1:${port}`;
});

afterAll(() => {
  redis?.kill("SIGTERM");
});

const client = useTestMongo();

describe("wake-ups between feed replicas through Redis (HUB_REDIS_URL)", () => {
  it("an append on one replica reaches a stream on the other at once, without its poll; the log stays the source (a missed wake-up waits for the poll)", async () => {
    const { log } = await freshLog(client(), "feed_wake");
    const logger = createLogger("feed", "silent");
    // Two replicas' tails on one log; B's poll is an hour away: only a wake-up brings news soon.
    const a = new LogTail({ source: log, pollMs: 3_600_000, capacity: 100 });
    const b = new LogTail({ source: log, pollMs: 3_600_000, capacity: 100 });
    const wakeups: Wakeups[] = [];
    for (const tail of [a, b]) {
      const w = await redisWakeups(redisUrl, (seq) => tail.heard(seq), logger);
      tail.announce = (seq) => w.announce(seq);
      wakeups.push(w);
    }
    const stream = tailLog({ log, tail: b, filter: {}, afterSeq: 0 });
    const received: CardEventDocument[] = [];
    const reading = (async () => {
      for await (const e of stream) received.push(e);
    })();
    try {
      // B has read the log as it is (its first subscriber's read is over): what follows is news.
      await b.poll();
      // Replica A appends (its own tail takes it at once, and it tells the others).
      const started = Date.now();
      a.appended((await log.append(logEntry("w1", "p_1"))).stored);
      await expect.poll(() => received.map((e) => e._id), { timeout: 2_000 }).toEqual(["w1"]);
      expect(Date.now() - started).toBeLessThan(2_000);

      // A missed announcement (appended without one) is found by B's next poll only.
      await log.append(logEntry("w2", "p_1"));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received.map((e) => e._id)).toEqual(["w1"]);
      await b.poll();
      await expect.poll(() => received.map((e) => e._id)).toEqual(["w1", "w2"]);
    } finally {
      await stream.return?.();
      await reading;
      for (const w of wakeups) await w.stop();
      a.stop();
      b.stop();
    }
  });

  it("a Redis that cannot be reached stops the start with one line naming HUB_REDIS_URL", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      redisWakeups(`redis://127.0.0.1:${port}`, () => undefined, createLogger("feed", "silent")),
    ).rejects.toThrow(/^HUB_REDIS_URL: cannot reach Redis/);
  });
});
