import { subgraphDatabaseName } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { watchEmbeddedGrowth } from "@hub/harness/cli";

const client = useTestMongo();

describe("npm start: the embedded database says when it outgrows a demo", () => {
  it("warns once, with the card count, when the cards pass the limit, and not before", async () => {
    const prefix = `grow${Date.now().toString(36)}`;
    const cards = client().db(subgraphDatabaseName(prefix, "cards")).collection("cards");
    await cards.insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: `c${i}` })) as never[]);
    const warnings: number[] = [];
    const watch = watchEmbeddedGrowth({
      countCards: () => cards.estimatedDocumentCount(),
      limit: 6,
      everyMs: 20,
      warn: (count) => warnings.push(count),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(warnings).toEqual([]);
      await cards.insertMany([{ _id: "c5" }, { _id: "c6" }] as never[]);
      await expect.poll(() => warnings, { timeout: 5_000 }).toEqual([7]);
      await cards.insertOne({ _id: "c7" } as never);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(warnings).toEqual([7]);
    } finally {
      watch.stop();
    }
  });
});
