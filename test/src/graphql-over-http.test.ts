import { createHash } from "node:crypto";
import { auditServer } from "graphql-http";
import { beforeAll, describe, expect, it } from "vitest";
import { postRequest, token, useTestHub } from "./support/hub.js";

const hub = useTestHub({ seed: false });
let bearer: string;
beforeAll(async () => {
  bearer = await token({ channel: "COUNTER" });
});

describe("GraphQL over HTTP (graphql-http's server audits, as a client with a valid token)", () => {
  it("passes every audit", async () => {
    const results = await auditServer({
      url: hub().gateway.url,
      // Every request of the audit carries the token, as a real client's would.
      fetchFn: (input: RequestInfo, init: RequestInit = {}) => {
        const headers = new Headers(init.headers);
        headers.set("authorization", `Bearer ${bearer}`);
        return fetch(input, { ...init, headers });
      },
    });
    const failed = results
      .filter((result) => result.status !== "ok")
      .map(
        (result) =>
          `${result.id} ${result.name}: ${result.status} ${"reason" in result ? result.reason : ""}`,
      );
    expect(failed).toEqual([]);
    expect(results.filter((result) => result.status === "ok")).toHaveLength(results.length);
    // graphql-http 1.23 has 61 server audits.
    expect(results.length).toBe(61);
  });
});

describe("automatic persisted queries over plain HTTP", () => {
  const post = (body: unknown) => postRequest(hub().gateway.url, body, bearer);

  it("hash only → PERSISTED_QUERY_NOT_FOUND; hash with its query → run and remembered; then hash only → run; a hash that is not the query's → BAD_REQUEST", async () => {
    const query = `query Apq${Date.now()} { __typename }`;
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    expect(await post({ extensions })).toMatchObject({
      status: 400,
      code: "PERSISTED_QUERY_NOT_FOUND",
    });
    expect(await post({ query, extensions })).toEqual({
      status: 200,
      data: { __typename: "Query" },
      code: undefined,
    });
    expect(await post({ extensions })).toEqual({
      status: 200,
      data: { __typename: "Query" },
      code: undefined,
    });
    const other = "query Other { __typename }";
    expect(await post({ query: other, extensions })).toMatchObject({
      status: 400,
      code: "BAD_REQUEST",
    });
    // The mismatch registered nothing: the hash still runs its own query.
    expect(await post({ extensions })).toMatchObject({ data: { __typename: "Query" } });
  });
});
