import { describe, expect, it } from "vitest";
import { framePackage, summarisePerf } from "./perf-summary.js";

// Three samples as `perf script -F comm,pid,tid,ip,sym,dso` prints them: JavaScript on the main
// thread of 101 (a package frame under a native leaf), a GC thread of 101, and another process.
const SCRIPT = `node  101/101
\t         14c46ff Builtins_RecordWriteSaveFP (/usr/bin/node)
\t    7f4b172e6ea4 JS:*deserializeObject /srv/hub/node_modules/bson/lib/bson.cjs:3357:27 (/tmp/perf-101.map)
\t    7f4b172a03dc JS:*processTicksAndRejections node:internal/process/task_queues:67:35 (/tmp/perf-101.map)

node  101/104
\t          d9b1a3 v8::internal::Scavenger::ScavengePage (/usr/bin/node)
\t          d9b687 v8::internal::ScavengerCollector::JobTask::ConcurrentScavengePages (/usr/bin/node)

node  101/101
\t    7f4b172e6ea4 JS:*handle file:///srv/hub/subgraphs/cards/dist/main.mjs:1232:24 (/tmp/perf-101.map)

jongodb  202/202
\t          abc123 something (/bin/jongodb)
`;

describe("perf samples grouped by process", () => {
  it("charges each sample to its innermost JavaScript package, or to the kind of native thread", () => {
    const summary = summarisePerf(SCRIPT, { cards: 101 });
    expect(Object.keys(summary)).toEqual(["cards"]);
    expect(summary["cards"]!.samples).toBe(3);
    expect(summary["cards"]!.byPackage).toEqual(
      expect.arrayContaining([
        { name: "bson", share: 33.3 },
        { name: "(GC threads)", share: 33.3 },
        { name: "(our code: subgraphs/cards)", share: 33.3 },
      ]),
    );
  });

  it("names packages, node's own modules and native frames apart", () => {
    expect(framePackage("JS:*x file:///a/node_modules/@apollo/server/dist/esm/a.js:1:2")).toBe(
      "@apollo/server",
    );
    expect(framePackage("JS:*clearBuffer node:internal/streams/writable:744:21")).toBe(
      "node:internal",
    );
    expect(framePackage("Builtins_LoadIC")).toBeNull();
  });
});
