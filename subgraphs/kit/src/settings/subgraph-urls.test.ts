import { describe, expect, it } from "vitest";
import { loadSubgraphEnv } from "./subgraph-env.js";
import { loadSubgraphUrls } from "./subgraph-urls.js";

describe("where every subgraph is: one reading for every process", () => {
  it("a port variable places its subgraph; a URL variable wins; nothing set means the default ports", () => {
    expect(loadSubgraphUrls({})).toEqual({
      persons: "http://127.0.0.1:4001/graphql",
      cards: "http://127.0.0.1:4002/graphql",
      passwords: "http://127.0.0.1:4003/graphql",
      "bank-accounts": "http://127.0.0.1:4004/graphql",
      feed: "http://127.0.0.1:4005/graphql",
    });
    expect(
      loadSubgraphUrls({
        CARDS_PORT: "4602",
        BANK_ACCOUNTS_URL: "http://bank.internal:80/graphql",
      }),
    ).toMatchObject({
      cards: "http://127.0.0.1:4602/graphql",
      "bank-accounts": "http://bank.internal:80/graphql",
    });
  });

  it("a subgraph on any free port (0) has no address others can know unless its URL is given", () => {
    expect(loadSubgraphUrls({ PASSWORDS_PORT: "0" })).not.toHaveProperty("passwords");
  });

  it("a bad address is named, not silently replaced by a default", () => {
    const bad = () => loadSubgraphUrls({ CARDS_URL: "cards:4002", PERSONS_PORT: "x" });
    expect(bad).toThrow(/CARDS_URL: must be an http\(s\) URL/);
    expect(bad).toThrow(/PERSONS_PORT: must be a port number/);
    expect(() =>
      loadSubgraphEnv("CARDS_PORT", 4002, {
        MONGODB_URI: "mongodb://127.0.0.1:1/",
        HUB_JWT_SECRET: "a-secret-of-at-least-thirty-two-characters",
        PASSWORDS_URL: "http://127.0.0.1:4003/events",
      }),
    ).toThrow(/PASSWORDS_URL: must end in \/graphql/);
  });

  it("a subgraph reads the same addresses as the gateway, and its effect wait", () => {
    const env = loadSubgraphEnv("CARDS_PORT", 4002, {
      MONGODB_URI: "mongodb://127.0.0.1:1/",
      HUB_JWT_SECRET: "a-secret-of-at-least-thirty-two-characters",
      CARDS_PORT: "4602",
      PERSONS_PORT: "4601",
      HUB_EFFECT_WAIT_MS: "500",
    });
    expect(env.port).toBe(4602);
    expect(env.subgraphUrls.persons).toBe("http://127.0.0.1:4601/graphql");
    expect(env.HUB_EFFECT_WAIT_MS).toBe(500);
  });
});
