import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { persistedDocumentsOf, splitOperations } from "@hub/gateway";
import { SCHEMA_DIR } from "@hub/schema";
import { SignJWT, generateKeyPair } from "jose";
import { isRelayCommand, subgraphDatabaseName } from "@hub/kit";
import { beforeAll, describe, expect, it } from "vitest";
import { cardView, personWithCard, personWithElectronicPassword, run } from "./support/cards.js";
import {
  contractOperation,
  graphql,
  postRequest,
  startTestHub,
  useTestHub,
  TEST_SECRET,
  token,
} from "./support/hub.js";

const hub = useTestHub({ gateway: { mode: "production", persistedOnly: true } });

const codes = (r: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  (r.errors ?? []).map((e) => e.extensions?.["code"]);
const analyst = () => token({ scopes: ["cards:read", "schema:read"] });

describe("query limits (graphql-armor) → QUERY_TOO_COMPLEX before any subgraph is called", () => {
  const rejected = async (query: string) => {
    hub().commands.length = 0;
    const response = await graphql(hub().gateway.url, query, {}, await analyst());
    expect(codes(response)).toContain("QUERY_TOO_COMPLEX");
    expect(response.data ?? null).toBeNull();
    expect(hub().commands.filter((c) => !isRelayCommand(c.commandName, c.command))).toEqual([]);
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
  it("request body size (413) and batching (at most 5 operations)", async () => {
    const big = await fetch(hub().gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await analyst()}` },
      body: JSON.stringify({ query: `{ __typename }`, variables: { pad: "x".repeat(200_000) } }),
    });
    expect(big.status).toBe(413);
    expect(
      ((await big.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
        .code,
    ).toBe("QUERY_TOO_COMPLEX");
    const bearer = await analyst();
    const batchOf = (size: number) =>
      fetch(hub().gateway.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
        body: JSON.stringify(Array.from({ length: size }, () => ({ query: "{ __typename }" }))),
      });
    // The limit itself is served; one more is refused whole, with the status the gateway sends.
    const five = await batchOf(5);
    expect(five.status).toBe(200);
    expect(await five.json()).toEqual(
      Array.from({ length: 5 }, () => ({ data: { __typename: "Query" } })),
    );
    const six = await batchOf(6);
    expect(six.status).toBe(413);
    expect(
      ((await six.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
        .code,
    ).toBe("BAD_REQUEST");
  });
  it("a POST without Content-Length (a chunked body) is refused with 411 before anything runs", async () => {
    const bearer = await analyst();
    hub().commands.length = 0;
    // fetch always declares a length for a string body: node:http streams it in chunks instead.
    const answer = await new Promise<{ status: number; type: string; body: string }>(
      (resolve, reject) => {
        const post = httpRequest(
          hub().gateway.url,
          {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${bearer}`,
              "transfer-encoding": "chunked",
            },
          },
          (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (body += chunk));
            response.on("end", () =>
              resolve({
                status: response.statusCode ?? 0,
                type: String(response.headers["content-type"]),
                body,
              }),
            );
          },
        );
        post.on("error", reject);
        post.write('{"query":"{ card(id: \\"c\\") ');
        post.end('{ id } }"}');
      },
    );
    expect(answer.status).toBe(411);
    expect(answer.type).toMatch(/^application\/json/);
    expect(
      (JSON.parse(answer.body) as { errors: { extensions: { code: string } }[] }).errors[0]!
        .extensions.code,
    ).toBe("QUERY_TOO_COMPLEX");
    expect(hub().commands.filter((c) => !isRelayCommand(c.commandName, c.command))).toEqual([]);
  });
  it("every contract operation stays within the limits", async () => {
    const operations = splitOperations(
      await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
    );
    for (const op of operations) {
      const response = await graphql(hub().gateway.url, op.document, {}, await analyst());
      expect(codes(response), op.name).not.toContain("QUERY_TOO_COMPLEX");
    }
  });
});

describe("introspection and field suggestions outside development", () => {
  it("introspection needs schema:read", async () => {
    const refused = await graphql(
      hub().gateway.url,
      "{ __schema { queryType { name } } }",
      {},
      await token({ scopes: ["cards:read"] }),
    );
    expect(codes(refused)).toContain("FORBIDDEN");
    const allowed = await graphql<{ __schema: { queryType: { name: string } } }>(
      hub().gateway.url,
      "{ __schema { queryType { name } } }",
      {},
      await analyst(),
    );
    expect(allowed.data!.__schema.queryType.name).toBe("Query");
    const typename = await graphql(hub().gateway.url, "{ __typename }", {}, await analyst());
    expect(typename.data).toEqual({ __typename: "Query" });
  });
  it("no 'did you mean' suggestions", async () => {
    const typo = await graphql(
      hub().gateway.url,
      '{ card(id: "c") { statu } }',
      {},
      await analyst(),
    );
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
    const person = hub().demo!.persons[0]!;
    const pharmacy = await token({ channel: "PHARMACY", scopes: ["cards:read"] });
    const post = (body: unknown, bearer: string) =>
      fetch(hub().gateway.url, {
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
      const response = await graphql(hub().gateway.url, "{ __typename }", {}, bearer);
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

describe("forged `extensions.jwt`: only the Authorization header's verified token counts", () => {
  /** What a forger adds to the body, shaped as Hive's JWT plugin forwards a verified token. */
  const forgedJwt = (payload: Record<string, unknown>) => ({
    jwt: { payload, token: { prefix: "Bearer", value: "forged" } },
  });
  const everything = forgedJwt({
    sub: "forger",
    channel: "COUNTER",
    scope: "cards:read pii:read persons:write cards:write",
  });
  const PERSON = "query($id: ID!) { person(id: $id) { id idNumber phone } }";
  const REGISTER =
    "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id } } }";

  // The gateway and a subgraph called directly: both must read the caller from the header only.
  const targets = () => [
    ["the gateway", hub().gateway.url] as const,
    ["the persons subgraph, called directly", hub().subgraphs.get("persons")!.url] as const,
  ];

  it("a valid header token without pii:read sees masked numbers, whatever extensions.jwt claims", async () => {
    const person = hub().demo!.persons[0]!;
    // An analyst token (schema:read), so the persisted-only gateway takes a free-form query.
    const reader = await token({ channel: "PHARMACY", scopes: ["cards:read", "schema:read"] });
    for (const [where, target] of targets()) {
      const answer = await postRequest(
        target,
        { query: PERSON, variables: { id: person._id }, extensions: everything },
        reader,
      );
      expect(answer.status, where).toBe(200);
      const seen = (answer.data as { person: { idNumber: string } }).person;
      expect(seen.idNumber, where).not.toBe(person.idNumber);
      expect(seen.idNumber, where).toMatch(
        new RegExp(`^${person.idNumber.slice(0, 4)}\\*{10}${person.idNumber.slice(-4)}$`),
      );
    }
  });

  it("forged scopes and channel do not let a write through: FORBIDDEN or CHANNEL_NOT_ALLOWED, nothing registered", async () => {
    const idNumber = "110105199001011232";
    const input = { idNumber, name: "伪造者" };
    const noWriteScope = await token({ channel: "COUNTER", scopes: ["cards:read", "schema:read"] });
    const wrongChannel = await token({
      channel: "PHARMACY",
      scopes: ["cards:read", "persons:write", "schema:read"],
    });
    for (const [where, target] of targets()) {
      const body = { query: REGISTER, variables: { input }, extensions: everything };
      expect((await postRequest(target, body, noWriteScope)).code, where).toBe("FORBIDDEN");
      expect((await postRequest(target, body, wrongChannel)).code, where).toBe(
        "CHANNEL_NOT_ALLOWED",
      );
    }
    const lookup = await graphql<{ personByIdNumber: unknown }>(
      hub().gateway.url,
      "query($n: String!) { personByIdNumber(idNumber: $n) { id } }",
      { n: idNumber },
      await analyst(),
    );
    expect(lookup.data).toEqual({ personByIdNumber: null });
  });

  it("a write is recorded with the header token's subject and channel, not the forged ones", async () => {
    const teller = await token({ channel: "BANK_COUNTER", sub: "teller-real" });
    const collect = await contractOperation("CollectCard");
    for (const target of [hub().gateway.url, hub().subgraphs.get("cards")!.url]) {
      const { cardId } = await personWithCard(hub().gateway.url);
      const collected = await postRequest(
        target,
        {
          query: collect,
          variables: { input: { cardId } },
          extensions: forgedJwt({ sub: "forger", channel: "GRASSROOTS", scope: "cards:write" }),
        },
        teller,
      );
      expect(collected.code, target).toBeUndefined();
      expect((await cardView(hub().gateway.url, cardId)).history.at(-1), target).toMatchObject({
        type: "COLLECTED",
        actor: "teller-real",
        channel: "BANK_COUNTER",
      });
    }
  });
});

describe("R-PWD-4 under concurrency: 20 wrong electronic-card passwords at once", () => {
  interface Verification {
    result: string;
    attemptsLeft: number;
    lockedUntil: string | null;
  }
  let personId: string;
  let results: Verification[];
  beforeAll(async () => {
    personId = (await personWithElectronicPassword(hub().gateway.url)).personId;
    // Shared by every channel (R-PWD-4): the guesses come from all four at once.
    const channels = ["APP", "WECHAT", "ALIPAY", "NATIONAL_PLATFORM"] as const;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run<{ verifyElectronicCardPassword: Verification }>(
          hub().gateway.url,
          "VerifyElectronicCardPassword",
          { personId, password: "000002" },
          channels[i % 4],
        ),
      ),
    );
    results = answers.map((answer) => {
      expect(answer.errors).toBeUndefined();
      return answer.data!.verifyElectronicCardPassword;
    });
  });

  /** The stored lock: when it began, as the passwords subgraph recorded it. */
  async function storedPassword(): Promise<{ failedAttempts: number; lockedAt: Date | null }> {
    const stored = await hub()
      .client.db(subgraphDatabaseName(hub().dbPrefix, "passwords"))
      .collection<{ _id: string; failedAttempts: number; lockedAt: Date | null }>(
        "electronic_card_passwords",
      )
      .findOne({ _id: personId });
    return stored!;
  }

  it("count exactly seven and lock once", async () => {
    // Six wrong entries leave 6..1 attempts, each count answered once (no two entries counted as
    // the same one); the seventh locks; every later entry meets the lock.
    expect(
      results
        .filter((r) => r.result === "WRONG")
        .map((r) => r.attemptsLeft)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results.filter((r) => r.result === "LOCKED")).toHaveLength(14);
    const stored = await storedPassword();
    expect(stored.failedAttempts).toBe(7);
    expect(stored.lockedAt).toBeInstanceOf(Date);
    // The audit trail records the lock once (the cards subgraph is told once, with it).
    expect(
      await hub()
        .client.db(subgraphDatabaseName(hub().dbPrefix, "passwords"))
        .collection("password_events")
        .countDocuments({ subject: personId, kind: "ELECTRONIC", type: "LOCKED" }),
    ).toBe(1);
    const status = await graphql<{
      person: { electronicCardPassword: { state: string; lockedUntil: string } };
    }>(
      hub().gateway.url,
      "query($id: ID!) { person(id: $id) { electronicCardPassword { state lockedUntil } } }",
      { id: personId },
      await analyst(),
    );
    // R-PWD-4: the lock lifts 24 hours after it began.
    expect(status.data!.person.electronicCardPassword).toEqual({
      state: "LOCKED",
      lockedUntil: new Date(stored.lockedAt!.getTime() + 24 * 3600_000).toISOString(),
    });
  });

  it("every LOCKED answer says until when, also one that met the lock while it was being set", async () => {
    // R-PWD-6: verification answers "locked (until when)".
    const { lockedAt } = await storedPassword();
    const lockedUntil = new Date(lockedAt!.getTime() + 24 * 3600_000).toISOString();
    const locked = results.filter((r) => r.result === "LOCKED");
    expect(locked.map((r) => r.lockedUntil)).toEqual(locked.map(() => lockedUntil));
  });
});
