import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { persistedDocumentsOf, splitOperations } from "@hub/gateway";
import { SCHEMA_DIR } from "@hub/schema";
import { SignJWT, generateKeyPair } from "jose";
import { isRelayCommand } from "@hub/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  contractOperation,
  graphql,
  startTestHub,
  TEST_SECRET,
  token,
  type TestHub,
} from "./support/hub.js";

let hub: TestHub;
let url: string;
beforeAll(async () => {
  hub = await startTestHub({ gateway: { mode: "production", persistedOnly: true } });
  url = hub.gateway.url;
});
afterAll(async () => {
  await hub?.stop();
});

const codes = (r: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  (r.errors ?? []).map((e) => e.extensions?.["code"]);
const analyst = () => token({ scopes: ["cards:read", "schema:read"] });

describe("query limits (graphql-armor) → QUERY_TOO_COMPLEX before any subgraph is called", () => {
  const rejected = async (query: string) => {
    hub.commands.length = 0;
    const response = await graphql(url, query, {}, await analyst());
    expect(codes(response)).toContain("QUERY_TOO_COMPLEX");
    expect(response.data ?? null).toBeNull();
    expect(hub.commands.filter((c) => !isRelayCommand(c.commandName, c.command))).toEqual([]);
  };

  it("depth", async () => {
    let selection = "id";
    for (let i = 0; i < 12; i++) selection = `replaces { ${selection} }`;
    await rejected(`{ card(id: "c") { ${selection} } }`);
  });
  it("aliases", async () =>
    rejected(
      `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: card(id: "c${i}") { id }`).join(" ")} }`,
    ));
  it("directives", async () =>
    rejected(`{ card(id: "c") { id ${"@include(if: true) ".repeat(25)} } }`));
  it("tokens", async () => rejected(`{ card(id: "c") { ${"id ".repeat(1600)} } }`));
  it("cost, counting list fields", async () => {
    const wide =
      "cards { id number status history { at type channel actor } replaces { id status } replacedBy { id status } }";
    await rejected(
      `{ ${Array.from({ length: 12 }, (_, i) => `p${i}: person(id: "p${i}") { id ${wide} duplicates { cards { id } } }`).join(" ")} }`,
    );
  });
  it("request body size (413) and batching (more than 5 operations)", async () => {
    const big = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await analyst()}` },
      body: JSON.stringify({ query: `{ __typename }`, variables: { pad: "x".repeat(200_000) } }),
    });
    expect(big.status).toBe(413);
    expect(
      ((await big.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
        .code,
    ).toBe("QUERY_TOO_COMPLEX");
    const batch = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await analyst()}` },
      body: JSON.stringify(Array.from({ length: 6 }, () => ({ query: "{ __typename }" }))),
    });
    expect(batch.status).toBeGreaterThanOrEqual(400);
    expect(batch.status).toBeLessThan(500);
  });
  it("every contract operation stays within the limits", async () => {
    const operations = splitOperations(
      await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
    );
    for (const op of operations) {
      const response = await graphql(url, op.document, {}, await analyst());
      expect(codes(response), op.name).not.toContain("QUERY_TOO_COMPLEX");
    }
  });
});

describe("introspection and field suggestions outside development", () => {
  it("introspection needs schema:read", async () => {
    const refused = await graphql(
      url,
      "{ __schema { queryType { name } } }",
      {},
      await token({ scopes: ["cards:read"] }),
    );
    expect(codes(refused)).toContain("FORBIDDEN");
    const allowed = await graphql<{ __schema: { queryType: { name: string } } }>(
      url,
      "{ __schema { queryType { name } } }",
      {},
      await analyst(),
    );
    expect(allowed.data!.__schema.queryType.name).toBe("Query");
    const typename = await graphql(url, "{ __typename }", {}, await analyst());
    expect(typename.data).toEqual({ __typename: "Query" });
  });
  it("no 'did you mean' suggestions", async () => {
    const typo = await graphql(url, '{ card(id: "c") { statu } }', {}, await analyst());
    expect(codes(typo)).toContain("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(typo)).not.toMatch(/Did you mean/i);
  });
});

describe("persisted documents", () => {
  it("a channel token may send only the contract's registered documents (by hash); an analyst may send any", async () => {
    const documents = persistedDocumentsOf(
      splitOperations(await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8")),
    );
    const personCards = documents.find((d) => d.name === "PersonCards")!;
    const person = hub.demo!.persons[0]!;
    const pharmacy = await token({ channel: "PHARMACY", scopes: ["cards:read"] });
    const post = (body: unknown, bearer: string) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
        body: JSON.stringify(body),
      }).then(
        (r) =>
          r.json() as Promise<{
            data?: { personByIdNumber: { id: string } };
            errors?: { extensions?: Record<string, unknown> }[];
          }>,
      );
    const byId = await post(
      { documentId: personCards.hash, variables: { idNumber: person.idNumber } },
      pharmacy,
    );
    expect(byId.data?.personByIdNumber.id).toBe(person._id);
    const byApq = await post(
      {
        extensions: { persistedQuery: { version: 1, sha256Hash: personCards.hash } },
        variables: { idNumber: person.idNumber },
      },
      pharmacy,
    );
    expect(byApq.data?.personByIdNumber.id).toBe(person._id);
    const free = await post(
      { query: await contractOperation("PersonCards"), variables: { idNumber: person.idNumber } },
      pharmacy,
    );
    expect(codes(free)).toContain("FORBIDDEN");
    const unknown = await post({ documentId: "0".repeat(64) }, pharmacy);
    expect(codes(unknown).length).toBeGreaterThan(0);
    const analystFree = await post(
      { query: await contractOperation("PersonCards"), variables: { idNumber: person.idNumber } },
      await analyst(),
    );
    expect(analystFree.data?.personByIdNumber.id).toBe(person._id);
  });
});

describe("tokens: algorithm confusion", () => {
  it("an HS512 token or an RS256 token is refused by an HS256 gateway", async () => {
    const hs512 = await new SignJWT({ channel: "COUNTER", scope: "cards:read" })
      .setProtectedHeader({ alg: "HS512" })
      .setSubject("x")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(TEST_SECRET.repeat(2)));
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await new SignJWT({ channel: "COUNTER", scope: "cards:read" })
      .setProtectedHeader({ alg: "RS256" })
      .setSubject("x")
      .setExpirationTime("1h")
      .sign(privateKey);
    for (const bearer of [hs512, rs256]) {
      const response = await graphql(url, "{ __typename }", {}, bearer);
      expect(response.status).toBe(401);
      expect(codes(response)).toEqual(["UNAUTHENTICATED"]);
    }
  });
});

describe("rate limit per token subject", () => {
  it("over the limit: RATE_LIMITED, HTTP 429 and Retry-After; another subject is unaffected", async () => {
    const limited = await startTestHub({
      seed: false,
      gateway: { rateLimit: { points: 5, windowSeconds: 60 } },
    });
    try {
      const busy = await token({ sub: "busy-terminal" });
      for (let i = 0; i < 5; i++)
        expect((await graphql(limited.gateway.url, "{ __typename }", {}, busy)).status).toBe(200);
      const response = await fetch(limited.gateway.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${busy}` },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      expect(response.status).toBe(429);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe("RATE_LIMITED");
      expect(
        (
          await graphql(
            limited.gateway.url,
            "{ __typename }",
            {},
            await token({ sub: "quiet-terminal" }),
          )
        ).status,
      ).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
