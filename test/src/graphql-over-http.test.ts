import { auditServer } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, token, type TestHub } from "./support/hub.js";

let hub: TestHub;
let bearer: string;
beforeAll(async () => {
  hub = await startTestHub({ seed: false });
  bearer = await token({ channel: "COUNTER" });
});
afterAll(async () => {
  await hub?.stop();
});

describe("GraphQL over HTTP (graphql-http's server audits, as a client with a valid token)", () => {
  it("passes every audit", async () => {
    const results = await auditServer({
      url: hub.gateway.url,
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
  });
});
