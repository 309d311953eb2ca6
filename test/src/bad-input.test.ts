import { describe, expect, it } from "vitest";
import { cardView, codeOf, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { contractOperation, graphql, useTestHub, TEST_SECRET, token } from "./support/hub.js";
import { SignJWT } from "jose";
import { subgraphDatabaseName } from "@hub/kit";

const hub = useTestHub();

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
      const result = await graphql(hub().gateway.url, query, { idNumber }, await token());
      expect(result.errors?.[0]?.extensions?.["code"]).toBe("INVALID_ID_NUMBER");
      expect(JSON.stringify(result)).not.toMatch(/stack|at .*\.ts:\d+/);
    }
  });

  it("an unknown person answers null", async () => {
    const byId = await graphql(hub().gateway.url, QUERY, { id: "p_does_not_exist" }, await token());
    expect(byId.errors).toBeUndefined();
    expect(byId.data).toEqual({ person: null });
    const byNumber = await graphql(
      hub().gateway.url,
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
      const result = await graphql(hub().gateway.url, QUERY, { id: "p_x" }, authorization);
      expect(result.status, String(authorization)).toBe(401);
      expect(result.errors?.[0]?.extensions?.["code"]).toBe("UNAUTHENTICATED");
      expect(result.data ?? null).toBeNull();
    }
  });

  it("a subgraph called directly without the gateway's credentials rejects the call", async () => {
    const persons = hub().subgraphs.get("persons")!.url;
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
    const allowed = await graphql(
      persons,
      QUERY,
      { id: hub().demo!.persons[0]!._id },
      await token(),
    );
    expect(allowed.data).toEqual({
      person: expect.objectContaining({ id: hub().demo!.persons[0]!._id }),
    });
  });

  it("a query without scope cards:read is FORBIDDEN", async () => {
    const result = await graphql(
      hub().gateway.url,
      QUERY,
      { id: hub().demo!.persons[0]!._id },
      await token({ scopes: ["pii:read"] }),
    );
    expect(result.errors?.[0]?.extensions?.["code"]).toBe("FORBIDDEN");
  });
});

const INITIAL = "123456";
const HUGE_PASSWORD = "1".repeat(90 * 1024);
const AGENT = { idNumber: "11010519491231002X", name: "代理人", powerOfAttorneyRef: "P-1" };

type Answer = Awaited<ReturnType<typeof run>>;
const fieldOf = (answer: Answer): unknown => answer.errors?.[0]?.extensions?.["field"];

/** A new card the passwords subgraph knows (a correct entry counts nothing). */
async function cardWithPassword(): Promise<{ personId: string; cardId: string }> {
  const created = await personWithCard(hub().gateway.url);
  await eventually(async () =>
    expect(
      codeOf(
        await run(hub().gateway.url, "VerifyCardPassword", {
          cardId: created.cardId,
          password: INITIAL,
        }),
      ),
    ).toBeUndefined(),
  );
  return created;
}

async function failedAttempts(cardId: string): Promise<number> {
  const response = await graphql<{ card: { password: { failedAttempts: number } } }>(
    hub().gateway.url,
    "query($id: ID!) { card(id: $id) { password { failedAttempts } } }",
    { id: cardId },
    await token(),
  );
  expect(response.errors).toBeUndefined();
  return response.data!.card.password.failedAttempts;
}

/** The right password still opens the card with every attempt left: nothing was counted. */
async function expectNothingCounted(cardId: string): Promise<void> {
  expect(await failedAttempts(cardId)).toBe(0);
  const right = await run<{ verifyCardPassword: { result: string; attemptsLeft: number } }>(
    hub().gateway.url,
    "VerifyCardPassword",
    { cardId, password: INITIAL },
  );
  expect(right.data?.verifyCardPassword).toMatchObject({ result: "OK", attemptsLeft: 6 });
}

describe("passwords that cannot be passwords (BAD_USER_INPUT, never a wrong attempt)", () => {
  it("R-PWD-3: a 90 KB password is BAD_USER_INPUT naming the field, and attemptsLeft is unchanged", async () => {
    const { cardId } = await cardWithPassword();
    const huge = await run(hub().gateway.url, "VerifyCardPassword", {
      cardId,
      password: HUGE_PASSWORD,
    });
    expect(codeOf(huge)).toBe("BAD_USER_INPUT");
    expect(fieldOf(huge)).toBe("password");
    expect(huge.data?.["verifyCardPassword"] ?? null).toBeNull();
    expect(JSON.stringify(huge)).not.toContain(HUGE_PASSWORD.slice(0, 7));
    await expectNothingCounted(cardId);
  });

  it("R-PWD-3: a 5-digit password is BAD_USER_INPUT, not counted, on verify and on both change fields", async () => {
    const { cardId } = await cardWithPassword();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ password: "12345" }, "VerifyCardPassword", "password"],
      [{ password: "12345a" }, "VerifyCardPassword", "password"],
      [
        { currentPassword: "12345", newPassword: "802615" },
        "ChangeCardPassword",
        "currentPassword",
      ],
      [
        { currentPassword: HUGE_PASSWORD, newPassword: "802615" },
        "ChangeCardPassword",
        "currentPassword",
      ],
      [{ currentPassword: INITIAL, newPassword: "80261" }, "ChangeCardPassword", "newPassword"],
      [
        { currentPassword: INITIAL, newPassword: HUGE_PASSWORD },
        "ChangeCardPassword",
        "newPassword",
      ],
    ];
    for (const [input, operation, field] of cases) {
      const answer = await run(hub().gateway.url, operation, { cardId, ...input });
      expect(codeOf(answer), `${operation} ${field}`).toBe("BAD_USER_INPUT");
      expect(fieldOf(answer), `${operation} ${field}`).toBe(field);
    }
    await expectNothingCounted(cardId);
  });

  it("R-PWD-4: malformed electronic-card passwords are BAD_USER_INPUT naming the field, not counted", async () => {
    const { personId } = await cardWithPassword();
    const set = (input: Record<string, unknown>) =>
      run(hub().gateway.url, "SetElectronicCardPassword", { personId, ...input }, "APP");
    const verify = (password: string) =>
      run<{ verifyElectronicCardPassword: { result: string; attemptsLeft: number } }>(
        hub().gateway.url,
        "VerifyElectronicCardPassword",
        { personId, password },
        "APP",
      );
    for (const newPassword of ["12345", HUGE_PASSWORD]) {
      const refused = await set({ newPassword });
      expect(codeOf(refused)).toBe("BAD_USER_INPUT");
      expect(fieldOf(refused)).toBe("newPassword");
    }
    expect((await set({ newPassword: "394857" })).errors).toBeUndefined();
    for (const password of ["12345", HUGE_PASSWORD]) {
      const refused = await verify(password);
      expect(codeOf(refused)).toBe("BAD_USER_INPUT");
      expect(fieldOf(refused)).toBe("password");
    }
    const badCurrent = await set({ currentPassword: HUGE_PASSWORD, newPassword: "592048" });
    expect(codeOf(badCurrent)).toBe("BAD_USER_INPUT");
    expect(fieldOf(badCurrent)).toBe("currentPassword");
    expect((await verify("394857")).data?.verifyElectronicCardPassword).toMatchObject({
      result: "OK",
      attemptsLeft: 7,
    });
  });
});

describe("free text has bounds (BAD_USER_INPUT naming the field, nothing written)", () => {
  async function expectCancelRefused(input: Record<string, unknown>, field: string) {
    const { cardId } = await personWithCard(hub().gateway.url);
    const before = await cardView(hub().gateway.url, cardId);
    const refused = await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "持卡人申请注销",
      idempotencyKey: `bad-${field}-${cardId}`,
      ...input,
    });
    expect(codeOf(refused), field).toBe("BAD_USER_INPUT");
    expect(fieldOf(refused), field).toBe(field);
    const after = await cardView(hub().gateway.url, cardId);
    expect(after.status).toBe(before.status);
    expect(after.history).toHaveLength(before.history.length);
  }

  it("R-CARD-10: a 28,000-character cancel reason is BAD_USER_INPUT and the card is unchanged", async () => {
    await expectCancelRefused({ reason: "x".repeat(28_000) }, "reason");
    await expectCancelRefused({ reason: "因".repeat(201) }, "reason");
  });

  it("R-CARD-10: a blank cancel reason is BAD_USER_INPUT naming reason", async () => {
    await expectCancelRefused({ reason: " \n " }, "reason");
  });

  it("R-ID-2: a long agent name or power-of-attorney reference is BAD_USER_INPUT and nothing is written", async () => {
    await expectCancelRefused({ agent: { ...AGENT, name: "名".repeat(51) } }, "agent.name");
    await expectCancelRefused({ agent: { ...AGENT, name: "x".repeat(28_000) } }, "agent.name");
    await expectCancelRefused(
      { agent: { ...AGENT, powerOfAttorneyRef: "P".repeat(65) } },
      "agent.powerOfAttorneyRef",
    );
    const { cardId } = await cardWithPassword();
    const reset = await run(hub().gateway.url, "ResetCardPassword", {
      cardId,
      agent: { ...AGENT, name: "x".repeat(28_000) },
    });
    expect(codeOf(reset)).toBe("BAD_USER_INPUT");
    expect(fieldOf(reset)).toBe("agent.name");
  });

  it("R-CARD-10: a reason at the bound is kept, trimmed, on the history", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const reason = "因".repeat(200);
    const cancelled = await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: `  ${reason}  `,
      idempotencyKey: `bound-${cardId}`,
    });
    expect(cancelled.errors).toBeUndefined();
    // The API does not show the reason: read what the history stored.
    const stored = await hub()
      .client.db(subgraphDatabaseName(hub().dbPrefix, "cards"))
      .collection<{ _id: string; history?: { type: string; details?: { reason?: string } }[] }>(
        "cards",
      )
      .findOne({ _id: cardId });
    expect(stored?.history?.at(-1)).toMatchObject({ type: "CANCELLED", details: { reason } });
  });
});

describe("a cancelled card's password (R-CARD-10)", () => {
  it("R-CARD-10 / R-PWD-3: verify, change and reset on a CANCELLED card are INVALID_TRANSITION and count nothing", async () => {
    const { cardId } = await cardWithPassword();
    const cancelled = await run(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "持卡人申请注销",
      idempotencyKey: `cancel-${cardId}`,
    });
    expect(cancelled.errors).toBeUndefined();
    const attempts: [string, Record<string, unknown>][] = [
      ["VerifyCardPassword", { cardId, password: "000001" }],
      ["VerifyCardPassword", { cardId, password: INITIAL }],
      ["ChangeCardPassword", { cardId, currentPassword: INITIAL, newPassword: "802615" }],
      ["ResetCardPassword", { cardId, idempotencyKey: `reset-${cardId}` }],
    ];
    for (const [operation, input] of attempts) {
      const refused = await run(hub().gateway.url, operation, input);
      expect(codeOf(refused), operation).toBe("INVALID_TRANSITION");
      expect(refused.errors?.[0]?.message, operation).toMatch(/CANCELLED/);
    }
    expect(await failedAttempts(cardId)).toBe(0);
  });
});
