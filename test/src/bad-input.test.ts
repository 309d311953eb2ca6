import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  contractOperation,
  graphql,
  startTestHub,
  TEST_SECRET,
  token,
  type TestHub,
} from "./support/hub.js";
import { SignJWT } from "jose";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});

const QUERY = "query($id: ID!) { person(id: $id) { id name } }";

describe("bad input through the gateway", () => {
  it("R-ID-1: a malformed identity number is INVALID_ID_NUMBER, with no stack trace", async () => {
    const query = await contractOperation("PersonCards");
    for (const idNumber of [
      "123",
      "110101199003070012",
      "110101199002300017",
      "99010119900307001X",
    ]) {
      const result = await graphql(hub.gateway.url, query, { idNumber }, await token());
      expect(result.errors?.[0]?.extensions?.["code"]).toBe("INVALID_ID_NUMBER");
      expect(JSON.stringify(result)).not.toMatch(/stack|at .*\.ts:\d+/);
    }
  });

  it("an unknown person answers null", async () => {
    const byId = await graphql(hub.gateway.url, QUERY, { id: "p_does_not_exist" }, await token());
    expect(byId.errors).toBeUndefined();
    expect(byId.data).toEqual({ person: null });
    const byNumber = await graphql(
      hub.gateway.url,
      await contractOperation("PersonCards"),
      { idNumber: "11010519491231002X" },
      await token(),
    );
    expect(byNumber.errors).toBeUndefined();
    expect(byNumber.data).toEqual({ personByIdNumber: null });
  });

  it("no token, a garbage token, a wrong signature, alg none, or an expired token: UNAUTHENTICATED (401)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const wrongSecret = await new SignJWT({ channel: "COUNTER", scope: "cards:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-another"));
    const expired = await new SignJWT({ channel: "COUNTER", scope: "cards:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const algNone = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "x", channel: "COUNTER", scope: "cards:read", exp: now + 3600 })}.`;
    const noChannel = await new SignJWT({ scope: "cards:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(TEST_SECRET));
    for (const authorization of [
      null,
      "Bearer not-a-token",
      `Bearer ${wrongSecret}`,
      `Bearer ${expired}`,
      `Bearer ${algNone}`,
      `Bearer ${noChannel}`,
      `Basic ${await token()}`,
    ]) {
      const result = await graphql(hub.gateway.url, QUERY, { id: "p_x" }, authorization);
      expect(result.status, String(authorization)).toBe(401);
      expect(result.errors?.[0]?.extensions?.["code"]).toBe("UNAUTHENTICATED");
      expect(result.data ?? null).toBeNull();
    }
  });

  it("a subgraph called directly without the gateway's credentials rejects the call", async () => {
    const persons = hub.subgraphs.get("persons")!.url;
    const anonymous = await graphql(persons, QUERY, { id: "p_x" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.extensions?.["code"]).toBe("UNAUTHENTICATED");
    const forged = await fetch(persons, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: QUERY,
        variables: { id: "p_x" },
        extensions: {
          jwt: { payload: { sub: "x", channel: "COUNTER", scope: "cards:read pii:read" } },
        },
      }),
    });
    expect(forged.status).toBe(401);
    const allowed = await graphql(persons, QUERY, { id: hub.demo!.persons[0]!._id }, await token());
    expect(allowed.data).toEqual({
      person: expect.objectContaining({ id: hub.demo!.persons[0]!._id }),
    });
  });

  it("a query without scope cards:read is FORBIDDEN", async () => {
    const result = await graphql(
      hub.gateway.url,
      QUERY,
      { id: hub.demo!.persons[0]!._id },
      await token({ scopes: ["pii:read"] }),
    );
    expect(result.errors?.[0]?.extensions?.["code"]).toBe("FORBIDDEN");
  });
});
