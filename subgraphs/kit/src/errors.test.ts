import { readFileSync } from "node:fs";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, HubError, isErrorCode } from "./errors.js";

const contract = readFileSync(new URL("../../../docs/contract.md", import.meta.url), "utf8");

/** The codes of the contract's "Errors" section (those the hub answers, not the HTTP layer's). */
function contractCodes(): string[] {
  const section = /^## Errors$([\s\S]*?)^## /m.exec(contract)?.[1];
  const codes = /Codes:([\s\S]*?)\nRequests that are not valid GraphQL/.exec(section ?? "")?.[1];
  if (!codes) throw new Error("docs/contract.md lists no error codes");
  // Contract v3 names the feed's own code after the HTTP layer's ("Feed: `CURSOR_EXPIRED`.").
  const feed = /\bFeed: ([^\n]*)/.exec(section ?? "")?.[1] ?? "";
  return [...`${codes} ${feed}`.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!);
}

describe("error codes", () => {
  it("are the contract's codes plus the hub's rate limit and internal fallback", () => {
    const codes = contractCodes();
    expect(codes.length).toBeGreaterThan(10);
    expect([...ERROR_CODES].sort()).toEqual(
      [...codes, "RATE_LIMITED", "INTERNAL_SERVER_ERROR"].sort(),
    );
    for (const code of ERROR_CODES) expect(isErrorCode(code), code).toBe(true);
  });

  it("isErrorCode refuses anything else", () => {
    for (const value of ["", "unauthenticated", "BAD_REQUEST", "NOT_FOUND ", 401, null, undefined])
      expect(isErrorCode(value), String(value)).toBe(false);
  });
});

describe("HubError", () => {
  it("is a GraphQL error whose extensions carry its code and what the caller passed", () => {
    const error = new HubError("NOT_FOUND", "No card c1.", { cardId: "c1" });
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.name).toBe("HubError");
    expect(error.message).toBe("No card c1.");
    expect(error.code).toBe("NOT_FOUND");
    expect(error.extensions).toEqual({ cardId: "c1", code: "NOT_FOUND" });
  });

  it("keeps its own code when the extras name another", () => {
    const error = new HubError("CONFLICT", "Changed meanwhile.", { code: "FORBIDDEN" });
    expect(error.code).toBe("CONFLICT");
    expect(error.extensions).toEqual({ code: "CONFLICT" });
  });

  it("answers UNAUTHENTICATED with HTTP 401 and every other code without an HTTP status", () => {
    expect(new HubError("UNAUTHENTICATED", "No token.").extensions).toEqual({
      code: "UNAUTHENTICATED",
      http: { status: 401 },
    });
    for (const code of ERROR_CODES.filter((c) => c !== "UNAUTHENTICATED"))
      expect(new HubError(code, "x").extensions, code).toEqual({ code });
  });
});
