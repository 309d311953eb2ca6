import type { GraphQLParams } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { codeLabel, operationLabeller, OTHER } from "./metrics.plugin.js";

const documents = [
  { name: "PersonCards", hash: "a1", document: "query PersonCards { x }" },
  { name: "IssueCard", hash: "b2", document: "mutation IssueCard { y }" },
];
const label = operationLabeller(documents);

describe("metric labels stay within known values (metrics.plugin.ts)", () => {
  it("an operation is labelled by its name only when that is a known document's", () => {
    expect(label({ query: "query PersonCards { x }", operationName: "PersonCards" })).toBe(
      "PersonCards",
    );
    expect(label({ query: "query Mine { x }", operationName: "Mine" })).toBe(OTHER);
    // No operationName: the name in the document, or the persisted document's.
    expect(label({ query: "# a comment\nmutation IssueCard($a: Int) { y }" })).toBe("IssueCard");
    expect(label({ extensions: { persistedQuery: { version: 1, sha256Hash: "b2" } } })).toBe(
      "IssueCard",
    );
    const byDocumentId: GraphQLParams & { documentId: string } = { documentId: "a1" };
    expect(label(byDocumentId)).toBe("PersonCards");
    expect(label({ extensions: { persistedQuery: { version: 1, sha256Hash: "zz" } } })).toBe(OTHER);
    expect(label({ query: "{ x }" })).toBe(OTHER);
    expect(label(undefined)).toBe(OTHER);
  });

  it("a code is labelled as it is only when the contract or the transport knows it", () => {
    expect(codeLabel("INVALID_ID_NUMBER")).toBe("INVALID_ID_NUMBER");
    expect(codeLabel("GATEWAY_TIMEOUT")).toBe("GATEWAY_TIMEOUT");
    expect(codeLabel("SOMETHING_A_SUBGRAPH_MADE_UP")).toBe(OTHER);
    expect(codeLabel(undefined)).toBe(OTHER);
  });
});
