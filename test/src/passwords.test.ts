import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { apiSchemaOf, SUPERGRAPH_PATH } from "@hub/schema";
import { isObjectType } from "graphql";
import { subgraphDatabaseName, type OutboxDocument } from "@hub/kit";
import { cardView, codeOf, freshIdNumber, run } from "./support/cards.js";
import { graphql, useTestHub, token, type GraphQLResponse } from "./support/hub.js";
import { attemptsLeftOfWrong, serialisable } from "./support/password-races.js";

const INITIAL = "123456";
let now = new Date("2026-11-25T09:00:00Z");
const logLines: string[] = [];
const responses: string[] = [];
const sentTokens: string[] = [];
const hub = useTestHub({
  seed: false,
  clock: () => now,
  logLevel: "debug",
  logDestination: { write: (line) => void logLines.push(line) },
});

/** Runs an operation and keeps its raw answer for the leak scan. */
async function call<T = Record<string, unknown>>(
  operation: string,
  input: Record<string, unknown>,
  channel: Parameters<typeof run>[3] = "COUNTER",
) {
  const response = await run<T>(hub().gateway.url, operation, input, channel);
  responses.push(JSON.stringify(response));
  return response;
}

async function passwordOf(cardId: string) {
  const response = await graphql<{
    card: { password: { state: string; failedAttempts: number; lockedAt: string | null } };
  }>(
    hub().gateway.url,
    "query($id: ID!) { card(id: $id) { password { state failedAttempts lockedAt } } }",
    { id: cardId },
    await token(),
  );
  responses.push(JSON.stringify(response));
  return response.data!.card.password;
}

const idNumbers: string[] = [];

/**
 * Contract v2: a mutation answers once its effects reached the other subgraphs, so the caller's
 * very next request shows them; an answer naming none as pending says they all arrived.
 */
function expectNoPendingEffects(answer: GraphQLResponse<unknown>): void {
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  expect(answer.extensions?.["pendingEffects"], JSON.stringify(answer.extensions)).toBeUndefined();
}

/**
 * A registered person with a card. The IssueCard answer already shows the card's initial
 * password (its CardIssued reached the passwords subgraph: contract v2), so the very next
 * request may verify it, with no waiting.
 */
async function registeredPerson(): Promise<{ personId: string; cardId: string }> {
  const idNumber = freshIdNumber();
  idNumbers.push(idNumber);
  // Through `run`, not `call`: these answers show the identity number unmasked (the test token
  // has pii:read), which is not a leak; R-PWD-6 scans what `call` records.
  const registered = await run<{ registerPerson: { person: { id: string } } }>(
    hub().gateway.url,
    "RegisterPerson",
    { idNumber, name: "测试人" },
  );
  expectNoPendingEffects(registered);
  const personId = registered.data!.registerPerson.person.id;
  const issued = await run<{
    issueCard: { card: { id: string; password: { state: string } | null } };
  }>(hub().gateway.url, "IssueCard", { personId, province: "44", issuingBank: "中国工商银行" });
  expectNoPendingEffects(issued);
  const card = issued.data!.issueCard.card;
  expect(card.password?.state).toBe("INITIAL");
  const verified = await call<{ verifyCardPassword: { result: string } }>(
    "VerifyCardPassword",
    { cardId: card.id, password: INITIAL },
    "PHARMACY",
  );
  expect(codeOf(verified)).toBeUndefined();
  expect(verified.data!.verifyCardPassword.result).toBe("OK");
  return { personId, cardId: card.id };
}

interface ResetAnswer {
  resetCardPassword: { password: { state: string; failedAttempts: number } };
}

interface EcardVerifyAnswer {
  verifyElectronicCardPassword: {
    result: string;
    attemptsLeft: number;
    lockedUntil: string | null;
  };
}

/** Rounds of each race: one round rarely hits the narrow window, a few often do. */
const RACE_ROUNDS = 6;

const passwordsDb = () => hub().client.db(subgraphDatabaseName(hub().dbPrefix, "passwords"));

async function storedElectronicPassword(personId: string) {
  const stored = await passwordsDb()
    .collection<{ _id: string; failedAttempts: number; lockedAt: Date | null }>(
      "electronic_card_passwords",
    )
    .findOne({ _id: personId });
  return stored!;
}

/** How many audit records (password_events) match. */
function passwordEvents(filter: Record<string, string>): Promise<number> {
  return passwordsDb().collection("password_events").countDocuments(filter);
}

/** Events the passwords subgraph released, read off its outbox inserts (delivered ones leave). */
function releasedFromPasswords(): OutboxDocument[] {
  const database = subgraphDatabaseName(hub().dbPrefix, "passwords");
  return hub()
    .commands.filter(
      (c) =>
        c.commandName === "insert" &&
        c.databaseName === database &&
        c.command["insert"] === "outbox",
    )
    .flatMap((c) => c.command["documents"] as OutboxDocument[]);
}

describe("passwords through the gateway", () => {
  it("logs are structured JSON with one request id shared by the gateway and the subgraphs", async () => {
    const requestId = `req-${Date.now()}`;
    const { cardId } = await registeredPerson();
    const bearer = await token();
    sentTokens.push(bearer, bearer.split(".")[2]!);
    await fetch(hub().gateway.url, {
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
      changeCardPassword: {
        result: string;
        password: { state: string };
        card: { socialSecurityFunction: { enabled: boolean; channel: string | null } };
      };
    }>(
      "ChangeCardPassword",
      { cardId, currentPassword: INITIAL, newPassword: "802615" },
      "PHARMACY",
    );
    // The contract's own example: the card enabled "in this very answer" and the next request.
    expectNoPendingEffects(changed);
    expect(changed.data!.changeCardPassword).toMatchObject({
      result: "OK",
      password: { state: "SET" },
      card: { socialSecurityFunction: { enabled: true, channel: "PHARMACY" } },
    });
    const view = await cardView(hub().gateway.url, cardId);
    expect(view.status).toBe("NORMAL");
    expect(view.history.at(-1)).toMatchObject({
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

  it("R-PWD-3: resetCardPassword replayed with its key answers as the first time and resets nothing again; the key with other input is a CONFLICT", async () => {
    const { cardId } = await registeredPerson();
    for (let i = 0; i < 6; i++)
      await call("VerifyCardPassword", { cardId, password: "999990" }, "PHARMACY");
    expect((await passwordOf(cardId)).state).toBe("LOCKED");
    const input = { cardId, idempotencyKey: "reset-twice" };
    const first = await call<ResetAnswer>("ResetCardPassword", input, "COUNTER");
    expectNoPendingEffects(first);
    expect(first.data!.resetCardPassword.password).toEqual({ state: "INITIAL", failedAttempts: 0 });
    const replay = await call<ResetAnswer>("ResetCardPassword", input, "COUNTER");
    expectNoPendingEffects(replay);
    expect(replay.data).toEqual(first.data);
    expect(await passwordEvents({ subject: cardId, type: "RESET" })).toBe(1);
    // A wrong entry since: a reset run again would clear it, the replay must not.
    await call("VerifyCardPassword", { cardId, password: "999990" }, "PHARMACY");
    expect(await passwordOf(cardId)).toMatchObject({ state: "INITIAL", failedAttempts: 1 });
    const later = await call<ResetAnswer>("ResetCardPassword", input, "COUNTER");
    expectNoPendingEffects(later);
    expect(later.data!.resetCardPassword.password).toEqual(first.data!.resetCardPassword.password);
    expect(await passwordOf(cardId)).toMatchObject({ state: "INITIAL", failedAttempts: 1 });
    expect(await passwordEvents({ subject: cardId, type: "RESET" })).toBe(1);
    const other = await call(
      "ResetCardPassword",
      {
        ...input,
        agent: { idNumber: "11010519491231002X", name: "代理", powerOfAttorneyRef: "POA-3" },
      },
      "COUNTER",
    );
    expect(codeOf(other)).toBe("CONFLICT");
    expect(await passwordOf(cardId)).toMatchObject({ state: "INITIAL", failedAttempts: 1 });
    expect(await passwordEvents({ subject: cardId, type: "RESET" })).toBe(1);
  });

  it("R-PWD-4: 20 concurrent wrong electronic-card entries count exactly seven, never more, and lock once", async () => {
    const { personId } = await registeredPerson();
    expectNoPendingEffects(
      await call("SetElectronicCardPassword", { personId, newPassword: "394857" }, "APP"),
    );
    const channels = ["APP", "WECHAT", "ALIPAY", "NATIONAL_PLATFORM"] as const;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call<EcardVerifyAnswer>(
          "VerifyElectronicCardPassword",
          { personId, password: "000003" },
          channels[i % 4],
        ),
      ),
    );
    const verdicts = answers.map((a) => a.data!.verifyElectronicCardPassword);
    // Each count from one to six answered once (six wrong, one left ... one wrong, six left).
    expect(attemptsLeftOfWrong(verdicts)).toEqual([1, 2, 3, 4, 5, 6]);
    const stored = await storedElectronicPassword(personId);
    expect(stored).toMatchObject({ failedAttempts: 7, lockedAt: now });
    // One lock: one audit record and one event telling the cards subgraph (R-PWD-4 locks every
    // electronic-card service).
    expect(await passwordEvents({ subject: personId, kind: "ELECTRONIC", type: "LOCKED" })).toBe(1);
    const announced = releasedFromPasswords().filter(
      (e) => e.type === "ElectronicPasswordLocked" && e.payload["personId"] === personId,
    );
    // One event (one outbox document per receiver: the cards subgraph and the feed).
    expect(new Set(announced.map((e) => e.eventId)).size).toBe(1);
    // Every other entry, the seventh included, is LOCKED until the one lock's end.
    const until = new Date(now.getTime() + 24 * 3600_000).toISOString();
    const locked = verdicts.filter((v) => v.result !== "WRONG");
    expect(locked).toHaveLength(14);
    for (const v of locked)
      expect(v).toMatchObject({ result: "LOCKED", attemptsLeft: 0, lockedUntil: until });
  });

  it("R-PWD-4: a correct entry racing wrong ones at the last attempt ends as some one-at-a-time order of them would (answers and stored state)", async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const { personId } = await registeredPerson();
      await call("SetElectronicCardPassword", { personId, newPassword: "394857" }, "APP");
      for (let i = 0; i < 6; i++)
        await call("VerifyElectronicCardPassword", { personId, password: "000003" }, "APP");
      const correct = [true, false, false, false];
      const answers = await Promise.all(
        correct.map((right) =>
          call<EcardVerifyAnswer>(
            "VerifyElectronicCardPassword",
            { personId, password: right ? "394857" : "000003" },
            right ? "WECHAT" : "ALIPAY",
          ),
        ),
      );
      const entries = answers.map((a, i) => ({
        correct: correct[i]!,
        result: a.data!.verifyElectronicCardPassword.result,
        attemptsLeft: a.data!.verifyElectronicCardPassword.attemptsLeft,
      }));
      const stored = await storedElectronicPassword(personId);
      const final = { failedAttempts: stored.failedAttempts, locked: stored.lockedAt !== null };
      expect(
        serialisable(entries, 7, 6, final),
        `round ${round}: ${JSON.stringify({ entries, final })}`,
      ).toBe(true);
      // A LOCKED answer names the lock's end (R-PWD-6: "locked (until when)").
      for (const a of answers)
        if (a.data!.verifyElectronicCardPassword.result === "LOCKED")
          expect(a.data!.verifyElectronicCardPassword.lockedUntil, `round ${round}`).not.toBeNull();
    }
  });

  it("R-PWD-3: a correct card-password entry racing wrong ones at the last attempt ends as some one-at-a-time order of them would (answers and stored state)", async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const { cardId } = await registeredPerson();
      // A password of the holder's own: entries are checked against its scrypt hash.
      await call(
        "ChangeCardPassword",
        { cardId, currentPassword: INITIAL, newPassword: "802615" },
        "COUNTER",
      );
      for (let i = 0; i < 5; i++)
        await call("VerifyCardPassword", { cardId, password: "000004" }, "HOSPITAL");
      const correct = [true, false, false, false];
      const answers = await Promise.all(
        correct.map((right) =>
          call<{ verifyCardPassword: { result: string; attemptsLeft: number } }>(
            "VerifyCardPassword",
            { cardId, password: right ? "802615" : "000004" },
            right ? "PHARMACY" : "SELF_SERVICE",
          ),
        ),
      );
      const entries = answers.map((a, i) => ({
        correct: correct[i]!,
        ...a.data!.verifyCardPassword,
      }));
      const stored = await passwordOf(cardId);
      const final = { failedAttempts: stored.failedAttempts, locked: stored.state === "LOCKED" };
      expect(
        serialisable(entries, 6, 5, final),
        `round ${round}: ${JSON.stringify({ entries, final })}`,
      ).toBe(true);
    }
  });

  it("R-PWD-6: no response or log line of the scenarios above contains a password or a hash, and wrong answers do not differ by closeness", async () => {
    const { cardId } = await registeredPerson();
    const near = await call("VerifyCardPassword", { cardId, password: "123457" }, "PHARMACY");
    const far = await call("VerifyCardPassword", { cardId, password: "908172" }, "PHARMACY");
    expect(JSON.stringify(near.data).replace(/\d+/g, "N")).toBe(
      JSON.stringify(far.data).replace(/\d+/g, "N"),
    );
    const stored = await hub()
      .client.db(`${hub().dbPrefix}_passwords`)
      .collection<{ _id: string; hash: string | null }>("card_passwords")
      .find({ hash: { $ne: null } })
      .toArray();
    const ecard = await hub()
      .client.db(`${hub().dbPrefix}_passwords`)
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
    // A password of digits counts as leaked standing alone, not inside a longer number: a log
    // line's millisecond timestamp (1796502592048) holds any six digits now and then.
    const holds = (text: string, secret: string) =>
      /^\d+$/.test(secret)
        ? new RegExp(`(?<!\\d)${secret}(?!\\d)`).test(text)
        : text.includes(secret);
    for (const text of [...responses, ...logLines])
      for (const secret of secrets)
        expect(holds(text, secret), `leaked ${secret.slice(0, 8)}… in ${text.slice(0, 200)}`).toBe(
          false,
        );
  });
});
