import { describe, expect, it } from "vitest";
import {
  breakingChangeName,
  checkApiAgainstBaseline,
  unrecordedBreakingChanges,
} from "./breaking-changes.js";

const before = /* GraphQL */ `
  type Query {
    card(id: ID!): Card
  }
  type Card {
    id: ID!
    status: String
    number: String
  }
`;

describe("breaking-change gate (graphql-inspector)", () => {
  it("the API has no breaking change since schema/api-baseline.graphql that schema/schema-changelog.json does not record", async () => {
    const unrecorded = await checkApiAgainstBaseline();
    expect(
      unrecorded.map((change) => `${breakingChangeName(change)}: ${change.message}`),
      "record each in schema/schema-changelog.json, with the reason channels were told",
    ).toEqual([]);
  });

  it("fails on a removed field unless the changelog records it; an added field passes", async () => {
    const removed = before.replace("number: String", "");
    const found = await unrecordedBreakingChanges(before, removed, { breaking: [] });
    expect(found.map(breakingChangeName)).toEqual(["Card.number"]);
    expect(
      await unrecordedBreakingChanges(before, removed, {
        breaking: [{ change: "Card.number", reason: "printed numbers moved", date: "2026-12-01" }],
      }),
    ).toEqual([]);
    const added = before.replace("number: String", "number: String\n renewalDue: Boolean");
    expect(await unrecordedBreakingChanges(before, added, { breaking: [] })).toEqual([]);
    const narrowed = before.replace("card(id: ID!)", "card(id: ID!, province: String!)");
    expect((await unrecordedBreakingChanges(before, narrowed, { breaking: [] })).length).toBe(1);
  });
});
