import { describe, expect, it } from "vitest";
import { groupedLoader, keyedLoader } from "./dataloader.js";

describe("DataLoader helpers", () => {
  it("loads many keys in one batch and puts results back in key order, null for missing", async () => {
    const batches: string[][] = [];
    const loader = keyedLoader(
      async (keys: readonly string[]) => {
        batches.push([...keys]);
        return keys
          .filter((k) => k !== "b")
          .map((k) => ({ id: k }))
          .reverse();
      },
      (v) => v.id,
    );
    const results = await Promise.all(["a", "b", "c"].map((k) => loader.load(k)));
    expect(results).toEqual([{ id: "a" }, null, { id: "c" }]);
    expect(batches).toEqual([["a", "b", "c"]]);
  });

  it("groups one-to-many results per key, empty for keys without any", async () => {
    let calls = 0;
    const loader = groupedLoader(
      async (keys: readonly string[]) => {
        calls += 1;
        return keys.flatMap((k) =>
          k === "p2"
            ? []
            : [
                { owner: k, n: 1 },
                { owner: k, n: 2 },
              ],
        );
      },
      (v) => v.owner,
    );
    const [p1, p2] = await Promise.all([loader.load("p1"), loader.load("p2")]);
    expect(p1.map((v) => v.n)).toEqual([1, 2]);
    expect(p2).toEqual([]);
    expect(calls).toBe(1);
  });
});
