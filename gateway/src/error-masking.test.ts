import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { createLogger } from "@hub/kit";
import { createErrorMasker } from "./error-masking.js";

const mask = createErrorMasker(createLogger("test", "silent"));

describe("gateway error masking", () => {
  it("keeps the message and code of a domain error, and drops everything else", () => {
    const error = new GraphQLError("The card is CANCELLED.", {
      extensions: {
        code: "INVALID_TRANSITION",
        serviceName: "cards",
        stacktrace: ["at x (/srv/cards.ts:1:1)"],
        request: { endpoint: "http://10.0.0.5:4002" },
      },
    });
    const masked = mask(error, "Unexpected error.") as GraphQLError;
    expect(masked.message).toBe("The card is CANCELLED.");
    expect(masked.extensions).toEqual({ code: "INVALID_TRANSITION" });
  });

  it("turns an unreachable subgraph into SERVICE_UNAVAILABLE without naming it", () => {
    const masked = mask(
      new GraphQLError("fetch failed to http://127.0.0.1:4003/graphql", {
        originalError: new Error("connect ECONNREFUSED 127.0.0.1:4003"),
      }),
      "x",
    ) as GraphQLError;
    expect(masked.extensions["code"]).toBe("SERVICE_UNAVAILABLE");
    expect(masked.message).not.toMatch(/127\.0\.0\.1|4003/);
  });

  it("replaces an unexpected error by a correlation id", () => {
    const masked = mask(
      new Error("TypeError: cannot read x of undefined at /srv/app.ts:10"),
      "x",
    ) as GraphQLError;
    expect(masked.extensions["code"]).toBe("INTERNAL_SERVER_ERROR");
    expect(masked.extensions["correlationId"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(masked.message).not.toMatch(/TypeError|srv/);
  });
});
