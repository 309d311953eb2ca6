import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { splitOperations } from "@hub/gateway";
import { SCHEMA_DIR } from "@hub/schema";
import { describe, expect, it } from "vitest";
import { useTestHub, token } from "./support/hub.js";

/** `npm test` runs a smaller sample; `npm run fuzz` runs 10,000 (HUB_FUZZ_RUNS). */
const RUNS = Number(process.env["HUB_FUZZ_RUNS"] ?? 400);

const hub = useTestHub({ logLevel: process.env["HUB_TEST_LOG_LEVEL"] ?? "silent" });

interface Attempt {
  body: string;
  authorization: string | null;
}

async function attempts(): Promise<fc.Arbitrary<Attempt>> {
  const operations = splitOperations(
    await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
  );
  const demo = hub().demo!;
  const tokens = [
    await token(),
    await token({ channel: "PHARMACY", scopes: ["cards:read", "cards:write", "passwords:write"] }),
    await token({ channel: "APP", scopes: ["cards:read"] }),
  ];
  const authorization = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...tokens.map((t) => `Bearer ${t}`)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        null,
        "Bearer",
        "Bearer x.y.z",
        "Basic abc",
        `Bearer ${tokens[0]!.slice(0, -3)}abc`,
      ),
    },
    { weight: 1, arbitrary: fc.string().map((s) => `Bearer ${s}`) },
  );
  const idLike = fc.oneof(
    fc.constantFrom(
      ...demo.persons.slice(0, 5).map((p) => p._id),
      ...demo.cards.slice(0, 5).map((c) => c._id),
      ...demo.persons.slice(0, 5).map((p) => p.idNumber),
    ),
    fc.string(),
    fc.string({ unit: "grapheme", maxLength: 40 }),
  );
  const value: fc.Arbitrary<unknown> = fc.oneof(
    idLike,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(idLike, { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 12 }), idLike, { maxKeys: 5 }),
  );
  /** A mutation's `input`: the contract's input field names with any values. */
  const input = fc.dictionary(
    fc.constantFrom(
      "cardId",
      "personId",
      "idNumber",
      "name",
      "password",
      "newPassword",
      "currentPassword",
      "temporary",
      "reason",
      "instant",
      "faceMatched",
      "idempotencyKey",
      "province",
      "issuingBank",
      "agent",
      "collectedAt",
      "issuedAt",
    ),
    value,
  );
  const variables = fc.oneof(
    fc.record({ idNumber: idLike }),
    fc.record({ id: idLike, cardId: idLike, ids: fc.array(idLike, { maxLength: 60 }) }),
    fc.record({ input }),
    fc.dictionary(fc.string({ maxLength: 10 }), value),
    value,
  );
  const document = fc
    .tuple(
      fc.constantFrom(...operations),
      fc.nat(),
      fc.nat(),
      fc.string({ maxLength: 8 }),
      fc.constantFrom("keep", "delete", "insert", "swap"),
    )
    .map(([op, at, len, text, how]) => {
      const doc = op.document;
      const i = at % (doc.length + 1);
      if (how === "delete") return doc.slice(0, i) + doc.slice(i + (len % 12));
      if (how === "insert") return doc.slice(0, i) + text + doc.slice(i);
      if (how === "swap") return doc.slice(i) + doc.slice(0, i);
      return doc;
    });
  const byName = (name: string) => operations.find((o) => o.name === name)!.document;
  const valid = fc
    .oneof(
      fc
        .constantFrom(...demo.persons.map((p) => p.idNumber))
        .map((idNumber) => ({ query: byName("PersonCards"), variables: { idNumber } })),
      fc
        .constantFrom(...demo.persons.map((p) => p._id))
        .map((id) => ({ query: byName("PersonById"), variables: { id } })),
      fc
        .subarray(
          demo.persons.map((p) => p._id),
          { maxLength: 60 },
        )
        .map((ids) => ({ query: byName("PersonsByIds"), variables: { ids } })),
      fc
        .constantFrom(...demo.cards.map((c) => c._id))
        .map((cardId) => ({ query: byName("CardHistory"), variables: { cardId } })),
    )
    .map((b) => JSON.stringify(b));
  const wellFormed = fc
    .record({
      query: document,
      variables,
      operationName: fc.option(fc.constantFrom(...operations.map((o) => o.name), "Nope"), {
        nil: undefined,
      }),
    })
    .map((b) => JSON.stringify(b));
  // The contract's documents as they are, each with its own variables holding generated values:
  // input reaches the resolvers' own checks (a mutated document mostly stops at validation).
  // Mostly strings (ids, identity numbers), so that more of them pass variable coercion.
  const variableValue = fc.oneof({ weight: 3, arbitrary: idLike }, { weight: 1, arbitrary: value });
  const contractDocuments = fc.constantFrom(...operations).chain((operation) => {
    const names = [...new Set([...operation.document.matchAll(/\$(\w+)\s*:/g)].map((m) => m[1]!))];
    return fc
      .record(
        Object.fromEntries(names.map((name) => [name, name === "input" ? input : variableValue])),
      )
      .map((variables) => JSON.stringify({ query: operation.document, variables }));
  });
  const raw = fc.oneof(
    fc.string(),
    fc.json(),
    fc.constant("{"),
    fc.constant("[]"),
    fc.constant('{"query": 42}'),
    fc.constant('{"query":"{ __schema { types { name } } }"}'),
    fc.constant('[{"query":"{ __typename }"},{"query":"{ __typename }"}]'),
  );
  return fc.record({
    body: fc.oneof(
      { weight: 2, arbitrary: valid },
      { weight: 5, arbitrary: wellFormed },
      { weight: 3, arbitrary: contractDocuments },
      { weight: 1, arbitrary: raw },
    ),
    authorization,
  });
}

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: unknown } }[];
}

function parseBody(text: string): Body | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as Body) : null;
  } catch {
    return null;
  }
}

const STACK = /\bat [\w.<>]+ \(|\.ts:\d+:\d+|node_modules|stacktrace/i;

describe(`fuzz: ${RUNS} generated and mutated operations through the gateway`, () => {
  it(
    "the gateway stays up; no 5xx and no INTERNAL_SERVER_ERROR for any input; no stack traces; every error has a code",
    async () => {
      const samples = fc.sample(await attempts(), {
        numRuns: RUNS,
        seed: Number(process.env["HUB_FUZZ_SEED"] ?? 20261125),
      });
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      let answeredWithData = 0;
      for (let start = 0; start < samples.length; start += 10) {
        await Promise.all(
          samples.slice(start, start + 10).map(async (attempt) => {
            const headers: Record<string, string> = { "content-type": "application/json" };
            if (attempt.authorization !== null) headers["authorization"] = attempt.authorization;
            const response = await fetch(hub().gateway.url, {
              method: "POST",
              headers,
              body: attempt.body,
            });
            const text = await response.text();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);

            const body = parseBody(text);
            const data = body?.data;
            if (data && Object.values(data).some((v) => v !== null)) answeredWithData += 1;
            // Whatever a client sends, the hub answers for it (4xx, or 200 with a client error
            // code): a 5xx or an internal error is the hub failing on its input, even when its
            // body is well formed (this hub is healthy: nothing here is a subgraph outage).
            const problem = STACK.test(text)
              ? "stack trace"
              : response.status >= 500
                ? `HTTP ${response.status}`
                : body?.errors?.some((e) => e.extensions?.code === "INTERNAL_SERVER_ERROR")
                  ? "INTERNAL_SERVER_ERROR"
                  : body?.errors?.some((e) => typeof e.extensions?.code !== "string")
                    ? "error without code"
                    : response.status >= 400 && !body
                      ? `HTTP ${response.status} without a JSON body`
                      : null;
            if (problem)
              failures.push(
                `${problem}: ${attempt.body.slice(0, 160)} → ${response.status} ${text.slice(0, 240)}`,
              );
          }),
        );
      }
      expect(failures.slice(0, 5), `${failures.length} of ${RUNS} failed`).toEqual([]);
      // the sample reached the resolvers as well as the guards
      expect(answeredWithData).toBeGreaterThan(RUNS / 50);
      expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 401]));
      expect((await fetch(new URL("/healthz", hub().gateway.url))).status).toBe(200);
    },
    Math.max(60_000, RUNS * 40),
  );
});
