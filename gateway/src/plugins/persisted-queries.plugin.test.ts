import { describe, expect, it } from "vitest";
import { memoryPersistedQueryStore } from "./persisted-queries.plugin.js";

describe("automatic persisted queries in memory", () => {
  it("keeps the newest registrations only (bounded memory)", async () => {
    const store = memoryPersistedQueryStore(3);
    for (const n of [1, 2, 3, 4]) await store.set(`h${n}`, `query Q${n} { __typename }`);
    expect(await store.get("h1")).toBeUndefined();
    expect(await store.get("h4")).toBe("query Q4 { __typename }");
    expect(await store.get("h2")).toBe("query Q2 { __typename }");
  });
});
