import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { composeSupergraph } from "./compose.js";
import { SUPERGRAPH_PATH, subgraphSdlPath } from "./paths.js";

describe("schema/ is the composition of the subgraphs' code", () => {
  it("composes without errors, and the checked-in SDL files equal a fresh composition (run `npm run compose` when this fails)", async () => {
    const fresh = await composeSupergraph();
    expect(fresh.subgraphs.size).toBe(5);
    for (const [name, sdl] of fresh.subgraphs) {
      expect(await readFile(subgraphSdlPath(name), "utf8"), `schema/${name}.graphql is stale`).toBe(
        sdl,
      );
    }
    expect(await readFile(SUPERGRAPH_PATH, "utf8"), "schema/supergraph.graphql is stale").toBe(
      fresh.supergraph,
    );
  });
});
