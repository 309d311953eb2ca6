import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiSchemaOf, SUPERGRAPH_PATH } from "@hub/schema";
import { isObjectType } from "graphql";
import { cardView, codeOf, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { graphql, startTestHub, token, type TestHub } from "./support/hub.js";

const INITIAL = "123456";
let now = new Date("2026-11-25T09:00:00Z");
const logLines: string[] = [];
const responses: string[] = [];
const sentTokens: string[] = [];
let hub: TestHub;
let url: string;

beforeAll(async () => {
  hub = await startTestHub({
    seed: false,
    clock: () => now,
    logLevel: "debug",
    logDestination: { write: (line) => void logLines.push(line) },
  });
  url = hub.gateway.url;
});
afterAll(async () => {
  await hub?.stop();
});

/** Runs an operation and keeps its raw answer for the leak scan. */
async function call<T = Record<string, unknown>>(
  operation: string,
  input: Record<string, unknown>,
  channel: Parameters<typeof run>[3] = "COUNTER",
) {
  const response = await run<T>(url, operation, input, channel);
  responses.push(JSON.stringify(response));
  return response;
}

async function passwordOf(cardId: string) {
  const response = await graphql<{
    card: { password: { state: string; failedAttempts: number; lockedAt: string | null } };
  }>(
    url,
    "query($id: ID!) { card(id: $id) { password { state failedAttempts lockedAt } } }",
    { id: cardId },
    await token(),
  );
  responses.push(JSON.stringify(response));
  return response.data!.card.password;
}

const idNumbers: string[] = [];

async function registeredPerson(): Promise<{ personId: string; cardId: string }> {
  const created = await personWithCard(url);
  idNumbers.push(created.idNumber);
  // wait until the passwords subgraph has learnt of the person and the card
  await eventually(async () =>
    expect(
      codeOf(
        await call("VerifyCardPassword", { cardId: created.cardId, password: INITIAL }, "PHARMACY"),
      ),
    ).toBeUndefined(),
  );
  return created;
}

describe("passwords through the gateway", () => {
  it("logs are structured JSON with one request id shared by the gateway and the subgraphs", async () => {
    const requestId = `req-${Date.now()}`;
    const { cardId } = await registeredPerson();
    const bearer = await token();
    sentTokens.push(bearer, bearer.split(".")[2]!);
    await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${bearer}`,
        "x-request-id": requestId,
      },
      body: JSON.stringify({
        query:
          "query($id: ID!) { card(id: $id) { status password { state } bankAccount { status } } }",
        variables: { id: cardId },
      }),
    });
    const lines = logLines.map((line) => JSON.parse(line) as { name: string; requestId?: string });
    const withId = lines.filter((l) => l.requestId === requestId).map((l) => l.name);
    expect(new Set(withId)).toEqual(new Set(["gateway", "cards", "passwords", "bank-accounts"]));
  });

  it("R-PWD-1: the hub keeps the social security password and never a bank account password", async () => {
    const schema = apiSchemaOf(await readFile(SUPERGRAPH_PATH, "utf8"));
    const bankAccount = schema.getType("BankAccount");
    const card = schema.getType("Card");
    expect(isObjectType(bankAccount) && isObjectType(card)).toBe(true);
    if (!isObjectType(bankAccount) || !isObjectType(card)) return;
    expect(Object.keys(bankAccount.getFields()).filter((f) => /password/i.test(f))).toEqual([]);
    expect(card.getFields()["password"]).toBeDefined();
  });

  it("R-PWD-2: a new card starts INITIAL; changing the initial password enables the card's social function", async () => {
    const { cardId } = await registeredPerson();
    expect((await passwordOf(cardId)).state).toBe("INITIAL");
    const weak = await call(
      "ChangeCardPassword",
      { cardId, currentPassword: INITIAL, newPassword: "111111" },
      "PHARMACY",
    );
    expect(codeOf(weak)).toBe("BAD_USER_INPUT");
    const changed = await call<{
      changeCardPassword: { result: string; password: { state: string } };
    }>(
      "ChangeCardPassword",
      { cardId, currentPassword: INITIAL, newPassword: "802615" },
      "PHARMACY",
    );
    expect(changed.data!.changeCardPassword).toMatchObject({
      result: "OK",
      password: { state: "SET" },
    });
    await eventually(async () => expect((await cardView(url, cardId)).status).toBe("NORMAL"));
    expect((await cardView(url, cardId)).history.at(-1)).toMatchObject({
      type: "SOCIAL_FUNCTION_ENABLED",
      channel: "PHARMACY",
      actor: "op-test",
    });
  });

  it("R-PWD-3: six consecutive wrong entries lock (the fifth leaves one); a correct entry resets the count", async () => {
    const { cardId } = await registeredPerson();
    for (let i = 1; i <= 5; i++) {
      const wrong = await call<{ verifyCardPassword: { result: string; attemptsLeft: number } }>(
        "VerifyCardPassword",
        { cardId, password: "000001" },
        "HOSPITAL",
      );
      expect(wrong.data!.verifyCardPassword).toMatchObject({
        result: "WRONG",
        attemptsLeft: 6 - i,
      });
    }
    const ok = await call<{ verifyCardPassword: { result: string; attemptsLeft: number } }>(
      "VerifyCardPassword",
      { cardId, password: INITIAL },
      "HOSPITAL",
    );
    expect(ok.data!.verifyCardPassword).toMatchObject({ result: "OK", attemptsLeft: 6 });
    expect((await passwordOf(cardId)).failedAttempts).toBe(0);
    for (let i = 1; i <= 5; i++)
      await call("VerifyCardPassword", { cardId, password: "000001" }, "SELF_SERVICE");
    const sixth = await call<{ verifyCardPassword: { result: string; attemptsLeft: number } }>(
      "VerifyCardPassword",
      { cardId, password: "000001" },
      "SELF_SERVICE",
    );
    expect(sixth.data!.verifyCardPassword).toMatchObject({ result: "LOCKED", attemptsLeft: 0 });
    const correctButLocked = await call<{ verifyCardPassword: { result: string } }>(
      "VerifyCardPassword",
      { cardId, password: INITIAL },
      "COUNTER",
    );
    expect(correctButLocked.data!.verifyCardPassword.result).toBe("LOCKED");
    expect(await passwordOf(cardId)).toMatchObject({
      state: "LOCKED",
      failedAttempts: 6,
      lockedAt: now.toISOString(),
    });
    expect(
      codeOf(
        await call(
          "ChangeCardPassword",
          { cardId, currentPassword: INITIAL, newPassword: "802615" },
          "COUNTER",
        ),
      ),
    ).toBe("PASSWORD_LOCKED");
  });

  it("R-PWD-3: only COUNTER or WEBSITE may reset; a reset unlocks to the initial password with 0 failures", async () => {
    const { cardId } = await registeredPerson();
    for (let i = 0; i < 6; i++)
      await call("VerifyCardPassword", { cardId, password: "999990" }, "PHARMACY");
    expect((await passwordOf(cardId)).state).toBe("LOCKED");
    expect(codeOf(await call("ResetCardPassword", { cardId }, "PHARMACY"))).toBe(
      "CHANNEL_NOT_ALLOWED",
    );
    expect(codeOf(await call("ResetCardPassword", { cardId }, "APP"))).toBe("CHANNEL_NOT_ALLOWED");
    const reset = await call<{
      resetCardPassword: { password: { state: string; failedAttempts: number } };
    }>(
      "ResetCardPassword",
      {
        cardId,
        agent: { idNumber: "11010519491231002X", name: "代理", powerOfAttorneyRef: "POA-9" },
        idempotencyKey: "reset-1",
      },
      "WEBSITE",
    );
    expect(reset.data!.resetCardPassword.password).toMatchObject({
      state: "INITIAL",
      failedAttempts: 0,
    });
    const ok = await call<{ verifyCardPassword: { result: string } }>(
      "VerifyCardPassword",
      { cardId, password: INITIAL },
      "PHARMACY",
    );
    expect(ok.data!.verifyCardPassword.result).toBe("OK");
  });

  it("R-PWD-3: 20 concurrent wrong entries count exactly six and lock once", async () => {
    const { cardId } = await registeredPerson();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call<{ verifyCardPassword: { result: string } }>(
          "VerifyCardPassword",
          { cardId, password: "246810" },
          "BANK_COUNTER",
        ),
      ),
    );
    const results = answers.map((a) => a.data!.verifyCardPassword.result);
    expect(results.filter((r) => r === "WRONG")).toHaveLength(5);
    expect(results.filter((r) => r === "LOCKED")).toHaveLength(15);
    expect(await passwordOf(cardId)).toMatchObject({ state: "LOCKED", failedAttempts: 6 });
  });

  it("R-PWD-4: the electronic-card password locks on the seventh wrong entry (six leave one), on every channel, and unlocks itself 24 hours later", async () => {
    const { personId } = await registeredPerson();
    const set = await call<{ setElectronicCardPassword: { status: { state: string } } }>(
      "SetElectronicCardPassword",
      { personId, newPassword: "394857" },
      "APP",
    );
    expect(set.data!.setElectronicCardPassword.status.state).toBe("SET");
    const channels = ["APP", "WECHAT", "ALIPAY", "NATIONAL_PLATFORM"] as const;
    for (let i = 1; i <= 6; i++) {
      const wrong = await call<{
        verifyElectronicCardPassword: { result: string; attemptsLeft: number };
      }>("VerifyElectronicCardPassword", { personId, password: "000002" }, channels[i % 4]);
      expect(wrong.data!.verifyElectronicCardPassword).toMatchObject({
        result: "WRONG",
        attemptsLeft: 7 - i,
      });
    }
    const lockedAt = now;
    const seventh = await call<{
      verifyElectronicCardPassword: { result: string; lockedUntil: string };
    }>("VerifyElectronicCardPassword", { personId, password: "000002" }, "WECHAT");
    const until = new Date(lockedAt.getTime() + 24 * 3600_000).toISOString();
    expect(seventh.data!.verifyElectronicCardPassword).toMatchObject({
      result: "LOCKED",
      attemptsLeft: 0,
      lockedUntil: until,
    });
    for (const channel of channels) {
      const correct = await call<{ verifyElectronicCardPassword: { result: string } }>(
        "VerifyElectronicCardPassword",
        { personId, password: "394857" },
        channel,
      );
      expect(correct.data!.verifyElectronicCardPassword.result).toBe("LOCKED");
    }
    expect(
      codeOf(
        await call(
          "SetElectronicCardPassword",
          { personId, currentPassword: "394857", newPassword: "592048" },
          "ALIPAY",
        ),
      ),
    ).toBe("PASSWORD_LOCKED");
    now = new Date(lockedAt.getTime() + 24 * 3600_000 - 1000);
    expect(
      (
        await call<{ verifyElectronicCardPassword: { result: string } }>(
          "VerifyElectronicCardPassword",
          { personId, password: "394857" },
          "APP",
        )
      ).data!.verifyElectronicCardPassword.result,
    ).toBe("LOCKED");
    now = new Date(lockedAt.getTime() + 24 * 3600_000);
    expect(
      (
        await call<{ verifyElectronicCardPassword: { result: string; attemptsLeft: number } }>(
          "VerifyElectronicCardPassword",
          { personId, password: "394857" },
          "ALIPAY",
        )
      ).data!.verifyElectronicCardPassword,
    ).toMatchObject({ result: "OK", attemptsLeft: 7 });
  });

  it("R-PWD-5: a change of the electronic-card password takes effect on every channel at once", async () => {
    const { personId } = await registeredPerson();
    await call("SetElectronicCardPassword", { personId, newPassword: "394857" }, "WECHAT");
    const wrongCurrent = await call(
      "SetElectronicCardPassword",
      { personId, currentPassword: "000000", newPassword: "592048" },
      "APP",
    );
    expect(codeOf(wrongCurrent)).toBe("BAD_USER_INPUT");
    const changed = await call(
      "SetElectronicCardPassword",
      { personId, currentPassword: "394857", newPassword: "592048" },
      "APP",
    );
    expect(changed.errors).toBeUndefined();
    for (const channel of ["WECHAT", "ALIPAY", "NATIONAL_PLATFORM"] as const) {
      expect(
        (
          await call<{ verifyElectronicCardPassword: { result: string } }>(
            "VerifyElectronicCardPassword",
            { personId, password: "592048" },
            channel,
          )
        ).data!.verifyElectronicCardPassword.result,
      ).toBe("OK");
      expect(
        (
          await call<{ verifyElectronicCardPassword: { result: string } }>(
            "VerifyElectronicCardPassword",
            { personId, password: "394857" },
            channel,
          )
        ).data!.verifyElectronicCardPassword.result,
      ).toBe("WRONG");
    }
  });

  it("R-PWD-6: no response or log line of the scenarios above contains a password or a hash, and wrong answers do not differ by closeness", async () => {
    const { cardId } = await registeredPerson();
    const near = await call("VerifyCardPassword", { cardId, password: "123457" }, "PHARMACY");
    const far = await call("VerifyCardPassword", { cardId, password: "908172" }, "PHARMACY");
    expect(JSON.stringify(near.data).replace(/\d+/g, "N")).toBe(
      JSON.stringify(far.data).replace(/\d+/g, "N"),
    );
    const stored = await hub.client
      .db(`${hub.dbPrefix}_passwords`)
      .collection<{ _id: string; hash: string | null }>("card_passwords")
      .find({ hash: { $ne: null } })
      .toArray();
    const ecard = await hub.client
      .db(`${hub.dbPrefix}_passwords`)
      .collection<{ _id: string; hash: string }>("electronic_card_passwords")
      .find()
      .toArray();
    const hashes = [...stored.map((s) => s.hash!), ...ecard.map((e) => e.hash)];
    expect(hashes.length).toBeGreaterThan(2);
    const secrets = [
      "802615",
      "394857",
      "592048",
      "123457",
      "908172",
      "000001",
      "999990",
      "246810",
      ...hashes,
      ...hashes.map((h) => h.split("$").at(-1)!),
    ];
    expect(logLines.length).toBeGreaterThan(10);
    // nor does the bearer token sent with the request-id scenario, nor an identity number
    secrets.push(...sentTokens, ...idNumbers);
    expect(idNumbers.length).toBeGreaterThan(3);
    for (const text of [...responses, ...logLines])
      for (const secret of secrets)
        expect(
          text.includes(secret),
          `leaked ${secret.slice(0, 8)}… in ${text.slice(0, 200)}`,
        ).toBe(false);
  });
});
