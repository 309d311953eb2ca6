import { describe, expect, it } from "vitest";
import { isLoopbackHost, sandboxOptions } from "./sandbox.js";

const operations = [
  {
    name: "PersonCards",
    kind: "query" as const,
    document:
      "query PersonCards($idNumber: String!) { personByIdNumber(idNumber: $idNumber) { id } }",
  },
  {
    name: "CardHistory",
    kind: "query" as const,
    document: "query CardHistory($cardId: ID!) { card(id: $cardId) { id } }",
  },
];
const examples = {
  PersonCards: { idNumber: "110101199003070011" },
  CardHistory: { cardId: "c_1" },
};
const request = new Request("http://127.0.0.1:4000/graphql");

describe("sandbox", () => {
  it("in development on loopback: a token in the headers and each tab's example variables, the first tab's in the pane", async () => {
    const page = await sandboxOptions({
      operations,
      examples,
      developmentToken: async () => "dev.token",
    }).graphiql(request);
    expect(JSON.parse(page.headers!)).toEqual({ Authorization: "Bearer dev.token" });
    expect(page.defaultTabs!.map((tab) => JSON.parse(tab.variables!))).toEqual([
      examples.PersonCards,
      examples.CardHistory,
    ]);
    expect(JSON.parse(page.variables!)).toEqual(examples.PersonCards);
    expect(page.defaultTabs![0]!.query).toBe(operations[0]!.document);
  });

  it("runs subscriptions over GraphQL over SSE at /graphql (the feed's CardEvents)", async () => {
    const page = await sandboxOptions({ operations, examples }).graphiql(request);
    expect(page.subscriptionsProtocol).toBe("GRAPHQL_SSE");
    expect(page.method).toBe("POST");
    // No endpoint of its own: GraphiQL then streams from the page's /graphql, with its headers.
    expect(page).not.toHaveProperty("subscriptionsEndpoint");
  });

  it("elsewhere nothing is pre-filled", async () => {
    const page = await sandboxOptions({ operations, examples }).graphiql(request);
    expect(page.headers).toContain("<paste the token printed by npm start>");
    expect(page.defaultTabs!.map((tab) => tab.variables)).toEqual([undefined, undefined]);
    expect(page.variables).toBeUndefined();
  });

  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["0.0.0.0", "10.0.0.5", "::", "hub.example.cn"])
      expect(isLoopbackHost(host)).toBe(false);
  });
});
